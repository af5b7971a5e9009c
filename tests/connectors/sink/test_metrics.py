"""The sink's metrics helpers."""

import pytest
from prometheus_client import CollectorRegistry, Histogram

from connectors.sink import metrics
from connectors.sink.metrics import observe_many

BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60)


def samples(registry: CollectorRegistry) -> dict:
    """The histogram's bucket counts, count and sum."""
    return {
        (s.name, s.labels.get("le")): s.value
        for metric in registry.collect()
        for s in metric.samples
        if not s.name.endswith("_created")
    }


def test_observing_many_counts_as_observing_each():
    amounts = [0.0, 0.005, 0.0051, 0.01, 0.3, 1, 59.9, 60, 61, 1e9, 0.025, 2.5]
    one, many = CollectorRegistry(), CollectorRegistry()
    each = Histogram("lag", "lag", buckets=BUCKETS, registry=one)
    batch = Histogram("lag", "lag", buckets=BUCKETS, registry=many)
    for amount in amounts:
        each.observe(amount)
    observe_many(batch, amounts)
    observe_many(batch, [])
    expected, got = samples(one), samples(many)
    assert got.pop(("lag_sum", None)) == pytest.approx(expected.pop(("lag_sum", None)))
    assert got == expected


def test_a_loop_that_stopped_polling_is_stalled_and_the_gauge_says_when_it_last_polled():
    metrics.clear_stuck()
    metrics.polled()
    assert metrics.health()["status"] == "ok"
    assert metrics.LAST_POLL.collect()[0].samples[0].value == metrics.last_poll
    metrics.last_poll -= metrics.HEALTHY_POLL_AGE
    assert metrics.health()["status"] == "stalled"
    metrics.polled()
    assert metrics.health()["status"] == "ok"
