"""Prometheus metrics of a sink and the small HTTP server that exposes them."""

import bisect
import json
import threading
from collections import Counter as Tally
from wsgiref.simple_server import WSGIRequestHandler, make_server

from prometheus_client import Counter, Gauge, Histogram, make_wsgi_app

from connectors.sink.health import Health

EVENTS = Counter(
    "sink_events_total", "Change events handled, by outcome and reason", ["outcome", "reason"]
)
CONFLICTS = Counter(
    "sink_conflicts_total",
    "Concurrent edits of a field decided here, by the rule that decided (newer_version, owner_tie)",
    ["field", "rule"],
)
CONFLICTS_PURGED = Counter(
    "sink_conflicts_purged_total", "Recorded conflicts deleted once past their retention"
)
DEAD_LETTERS = Counter(
    "sink_dead_letters_total", "Events written to the dead-letter topic", ["reason"]
)
BATCH_SIZE = Histogram(
    "sink_batch_size",
    "Messages per consumed batch",
    buckets=(1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000),
)
APPLY_SECONDS = Histogram(
    "sink_apply_seconds",
    "Time to apply one batch to the database",
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5),
)
LAG_SECONDS = Histogram(
    "sink_end_to_end_lag_seconds",
    "Source commit to applied on the target, per applied event",
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60),
)
LAST_APPLIED = Gauge("sink_last_applied_timestamp_seconds", "When the last batch was committed")
CONSUMER_LAG = Gauge(
    "sink_consumer_lag", "Messages of the source topic not applied yet", ["partition"]
)
LAST_POLL = Gauge("sink_last_poll_timestamp_seconds", "When the consumer last polled Kafka")
RETRIES = Counter("sink_retries_total", "Failed batch attempts that will be retried", ["failure"])
PARKED = Gauge(
    "sink_parked_changes", "Changes refused for a number clash, waiting for their partner"
)
STUCK = Gauge("sink_stuck", "1 while the same batch keeps failing (see /healthz for why)")
SNAPSHOT_READS = Counter(
    "sink_snapshot_reads_total", "Rows applied from snapshots of the source (op r)"
)
SNAPSHOTS = Counter(
    "sink_snapshots_total", "Snapshots of the source whose first read this sink applied"
)
LAST_SNAPSHOT = Gauge(
    "sink_last_snapshot_timestamp_seconds", "When this sink applied the first read of a snapshot"
)
SCHEMA_VERSION = Gauge("sink_target_schema_version", "The schema version the target syncs")
FIELDS_NOT_APPLIED = Counter(
    "sink_fields_not_applied_total",
    "Fields of events left alone: the target does not sync them, or the event lacks their column",
    ["field", "why"],
)


def observe_many(histogram: Histogram, amounts: list[float]) -> None:
    """Observe many amounts at once: one increment per bucket hit, not one lock per amount.

    The same counts as `observe` on each amount (a unit test checks it); it uses the histogram's
    bucket bounds and counters, which prometheus_client keeps in `_upper_bounds`, `_buckets`
    and `_sum`.
    """
    if not amounts:
        return
    bounds = histogram._upper_bounds
    for index, n in Tally(bisect.bisect_left(bounds, amount) for amount in amounts).items():
        histogram._buckets[index].inc(n)
    histogram._sum.inc(sum(amounts))


def expose(health: Health) -> None:
    """Let the gauges that describe the loop's state read it from its health at each scrape."""
    LAST_POLL.set_function(lambda: health.last_poll)
    STUCK.set_function(lambda: 1 if health.is_stuck() else 0)
    SCHEMA_VERSION.set_function(lambda: health.schema_version)


class QuietHandler(WSGIRequestHandler):
    """Request handler that does not log every scrape."""

    def log_message(self, *args):
        """Stay silent."""


def make_app(health: Health):
    """A WSGI app: /healthz from the loop's health, everything else as Prometheus metrics."""
    metrics = make_wsgi_app()

    def app(environ, start_response):
        if environ["PATH_INFO"] != "/healthz":
            return metrics(environ, start_response)
        body = health.body()
        status = "200 OK" if body["status"] == "ok" else "503 Service Unavailable"
        start_response(status, [("Content-Type", "application/json")])
        return [json.dumps(body).encode()]

    return app


def serve(host: str, port: int, health: Health) -> None:
    """Serve metrics and health on a daemon thread."""
    expose(health)
    server = make_server(host, port, make_app(health), handler_class=QuietHandler)
    threading.Thread(target=server.serve_forever, daemon=True, name="metrics").start()
