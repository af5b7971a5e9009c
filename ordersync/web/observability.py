"""Request metrics and JSON request logs of a service, one line per request."""

import logging
import os
import time

from flask import Blueprint, Response, g, request
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
    multiprocess,
)
from pythonjsonlogger.orjson import OrjsonFormatter

# the fields of every JSON log line of the apps and their server
LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s %(message)s"

REQUESTS = Counter(
    "http_requests_total",
    "HTTP requests by route, method and status",
    ["route", "method", "status"],
)
LATENCY = Histogram(
    "http_request_duration_seconds",
    "Time to answer a request",
    ["route", "method"],
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5),
)

# a client may send any method name: each would make new time series, so the rest are "other"
METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})

blp = Blueprint("metrics", __name__)
log = logging.getLogger("request")


@blp.get("/metrics")
def metrics():
    """Prometheus metrics of every worker of this service."""
    registry = CollectorRegistry()
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        # the server runs several worker processes: add up what each wrote to the shared directory
        multiprocess.MultiProcessCollector(registry)
    else:
        from prometheus_client import REGISTRY as registry
    return Response(generate_latest(registry), mimetype=CONTENT_TYPE_LATEST)


def start_timer() -> None:
    """Remember when the request began."""
    g.started = time.perf_counter()


def method_label() -> str:
    """The request's method as a metric label, from a bounded set."""
    return request.method if request.method in METHODS else "other"


def record(response):
    """Count the request, observe its latency, and log it as one JSON line."""
    route = request.url_rule.rule if request.url_rule else "unmatched"
    elapsed = time.perf_counter() - g.get("started", time.perf_counter())
    method = method_label()
    REQUESTS.labels(route, method, str(response.status_code)).inc()
    LATENCY.labels(route, method).observe(elapsed)
    if route != "/metrics":
        order_id = (request.view_args or {}).get("order_id")
        log.info(
            "%s %s %s",
            request.method,
            request.path,
            response.status_code,
            extra={
                "route": route,
                "status": response.status_code,
                "ms": round(elapsed * 1000, 2),
                "order_id": str(order_id) if order_id else None,
                "remote": request.remote_addr,
            },
        )
    return response


def json_logging(level: str = "INFO") -> None:
    """Send every log record to stderr as one JSON object per line."""
    handler = logging.StreamHandler()
    # orjson: the request line is written per request, and the stdlib encoder costs 4x more
    handler.setFormatter(OrjsonFormatter(LOG_FORMAT))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)


def register_observability(app) -> None:
    """Time and count every request, and expose /metrics."""
    app.before_request(start_timer)
    app.after_request(record)
    app.register_blueprint(blp)
