"""The sink's metrics helpers."""

from collections import Counter

import pytest
from prometheus_client import CollectorRegistry, Histogram

from connectors.sink import health as sink_health
from connectors.sink import metrics
from connectors.sink.health import Health
from connectors.sink.merge import Conflict, Outcome
from connectors.sink.metrics import observe_many
from connectors.sink.processor import BatchReport
from connectors.sink.recording import Recorder

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


def gauge(metric) -> float:
    """A gauge's value as a scrape reads it."""
    return metric.collect()[0].samples[0].value


def test_a_loop_that_stopped_polling_is_stalled_and_the_gauge_says_when_it_last_polled():
    health = Health()
    metrics.expose(health)
    health.polled()
    assert health.body()["status"] == "ok"
    assert gauge(metrics.LAST_POLL) == health.last_poll
    health.last_poll -= sink_health.HEALTHY_POLL_AGE
    assert health.body()["status"] == "stalled"
    health.polled()
    assert health.body()["status"] == "ok"


def test_a_batch_failing_often_or_for_its_schema_is_stuck_and_the_gauge_says_so():
    health = Health()
    metrics.expose(health)
    health.polled()
    for attempt in range(1, sink_health.STUCK_AFTER):
        health.failed("t[0]@5", "transient", OSError("gone"), attempt)
        assert health.body()["status"] == "ok" and gauge(metrics.STUCK) == 0
    health.failed("t[0]@5", "transient", OSError("gone"), sink_health.STUCK_AFTER)
    assert health.body()["status"] == "stuck" and gauge(metrics.STUCK) == 1
    since = health.stuck["since"]
    health.failed("t[0]@5", "schema", OSError("no column"), 1)
    assert health.stuck["since"] == since and health.body()["failure"] == "schema"
    health.recovered()
    assert health.body()["status"] == "ok" and gauge(metrics.STUCK) == 0


def test_healthz_answers_503_unless_ok():
    health = Health()
    app = metrics.make_app(health)
    statuses = []
    health.polled()
    app({"PATH_INFO": "/healthz"}, lambda status, headers: statuses.append(status))
    health.failed("t[0]@5", "schema", OSError("no column"), 1)
    app({"PATH_INFO": "/healthz"}, lambda status, headers: statuses.append(status))
    assert statuses == ["200 OK", "503 Service Unavailable"]


def test_conflicts_are_counted_by_field_and_rule():
    """What the batch recorded is counted, not what its merge decided (a replay records none)."""

    def count(field, rule):
        return metrics.CONFLICTS.labels(field, rule)._value.get()

    before = count("status", "owner_tie"), count("notes", "newer_version")
    tie = Conflict("status", "local", "owner_tie", "shipped", 2, "cancelled", 2)
    report = BatchReport(
        outcomes=[(None, Outcome(False, "stale", conflicts=(tie,)))],
        conflicts=Counter({("status", "owner_tie"): 2, ("notes", "newer_version"): 1}),
    )
    Recorder.count(report)
    assert count("status", "owner_tie") == before[0] + 2
    assert count("notes", "newer_version") == before[1] + 1
