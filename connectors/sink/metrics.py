"""Prometheus metrics of a sink and the small HTTP server that exposes them."""

import threading
import time
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
    "sink_consumer_lag", "Messages behind the end of the source topic", ["partition"]
)
LAST_POLL = Gauge("sink_last_poll_timestamp_seconds", "When the consumer last polled Kafka")

HEALTHY_POLL_AGE = 30.0


class QuietHandler(WSGIRequestHandler):
    """Request handler that does not log every scrape."""

    def log_message(self, *args):
        """Stay silent."""


def healthy() -> bool:
    """Tell whether the poll loop ran recently."""
    return time.time() - LAST_POLL._value.get() < HEALTHY_POLL_AGE


def app(environ, start_response):
    """Serve /healthz from the loop's heartbeat and everything else as Prometheus metrics."""
    if environ["PATH_INFO"] == "/healthz":
        ok = healthy()
        start_response(
            "200 OK" if ok else "503 Service Unavailable", [("Content-Type", "application/json")]
        )
        return [b'{"status": "ok"}' if ok else b'{"status": "stalled"}']
    return make_wsgi_app()(environ, start_response)


def serve(host: str, port: int) -> None:
    """Serve metrics and health on a daemon thread."""
    server = make_server(host, port, app, handler_class=QuietHandler)
    threading.Thread(target=server.serve_forever, daemon=True, name="metrics").start()
