"""Prometheus metrics of a sink and the small HTTP server that exposes them."""

import bisect
import json
import threading
import time
from collections import Counter as Tally
from wsgiref.simple_server import WSGIRequestHandler, make_server

from prometheus_client import Counter, Gauge, Histogram, make_wsgi_app

EVENTS = Counter(
    "sink_events_total", "Change events handled, by outcome and reason", ["outcome", "reason"]
)
CONFLICTS = Counter(
    "sink_conflicts_total", "Same-version edits of a field resolved by its owner", ["field"]
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
# names come from events (hostile): past this many, further ones are counted as "other"
MAX_FIELD_LABELS = 32
# how long a field left alone keeps the sink's /healthz saying "mid-rollout"
ROLLOUT_MEMORY_SECONDS = 600.0
# (field, why) -> when last seen; read by /healthz
left_alone: dict[tuple[str, str], float] = {}


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


HEALTHY_POLL_AGE = 30.0
# this many failed attempts in a row at the same offset make the sink report itself unhealthy
STUCK_AFTER = 3

# the batch being retried, if any: {"offset", "failure", "error", "attempts", "since"}
stuck: dict = {}
last_poll = 0.0  # the gauge's value, kept here too: health reads it without prometheus internals


def report_stuck(where: str, failure: str, error: BaseException, attempts: int) -> None:
    """Record that the batch starting at `where` failed again."""
    RETRIES.labels(failure).inc()
    since = stuck.get("since", time.time()) if stuck.get("offset") == where else time.time()
    stuck.clear()
    stuck.update(
        offset=where,
        failure=failure,
        error=str(error).strip()[:500],
        attempts=attempts,
        since=since,
    )
    STUCK.set(1 if unhealthy_stuck() else 0)


def clear_stuck() -> None:
    """The batch went through: the sink is no longer stuck."""
    if stuck:
        stuck.clear()
        STUCK.set(0)


def unhealthy_stuck() -> bool:
    """Tell whether the retried batch has failed often enough, or for a reason that needs people."""
    return bool(stuck) and (stuck["attempts"] >= STUCK_AFTER or stuck["failure"] == "schema")


class QuietHandler(WSGIRequestHandler):
    """Request handler that does not log every scrape."""

    def log_message(self, *args):
        """Stay silent."""


def polled() -> None:
    """The loop has just polled Kafka: it is alive."""
    global last_poll
    last_poll = time.time()
    LAST_POLL.set(last_poll)


def fields_left_alone(why: str, tally: Tally) -> None:
    """Count fields of events that were not applied, and remember them for /healthz."""
    now = time.time()
    for name, n in tally.items():
        key = (name, why)
        if key not in left_alone and len(left_alone) >= MAX_FIELD_LABELS:
            key = ("other", why)
        left_alone[key] = now
        FIELDS_NOT_APPLIED.labels(*key).inc(n)


def schema_view() -> dict:
    """The target's schema version, and fields left alone lately (the sides are mid-rollout)."""
    since = time.time() - ROLLOUT_MEMORY_SECONDS
    recent = sorted((f, why) for (f, why), seen in left_alone.items() if seen >= since)
    return {
        "version": int(SCHEMA_VERSION._value.get()),
        "left_alone": [{"field": f, "why": why} for f, why in recent],
    }


def health() -> dict:
    """Return the sink's health: ok, stalled (the loop stopped polling) or stuck (with why)."""
    if time.time() - last_poll >= HEALTHY_POLL_AGE:
        return {"status": "stalled", "schema": schema_view()}
    if unhealthy_stuck():
        return {"status": "stuck", **stuck, "schema": schema_view()}
    return {"status": "ok", "schema": schema_view()}


def app(environ, start_response):
    """Serve /healthz from the loop's state and everything else as Prometheus metrics."""
    if environ["PATH_INFO"] == "/healthz":
        body = health()
        ok = body["status"] == "ok"
        start_response(
            "200 OK" if ok else "503 Service Unavailable", [("Content-Type", "application/json")]
        )
        return [json.dumps(body).encode()]
    return make_wsgi_app()(environ, start_response)


def serve(host: str, port: int) -> None:
    """Serve metrics and health on a daemon thread."""
    server = make_server(host, port, app, handler_class=QuietHandler)
    threading.Thread(target=server.serve_forever, daemon=True, name="metrics").start()
