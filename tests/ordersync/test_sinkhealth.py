"""Reading a sink's metrics page into its health, lag and last-applied time."""

import socket
import threading

from ordersync import sinkhealth
from ordersync.sinkhealth import SinkHealth, describe, from_metrics, probe

METRICS = """\
# HELP sink_consumer_lag Messages behind the end of the source topic
# TYPE sink_consumer_lag gauge
sink_consumer_lag{partition="0"} 3.0
sink_consumer_lag{partition="1"} 4.0
# HELP sink_last_applied_timestamp_seconds When the last batch was committed
# TYPE sink_last_applied_timestamp_seconds gauge
sink_last_applied_timestamp_seconds 1.7957765e+09
# HELP sink_last_poll_timestamp_seconds When the consumer last polled Kafka
# TYPE sink_last_poll_timestamp_seconds gauge
sink_last_poll_timestamp_seconds 1.7957766e+09
"""

FRESH = """\
# HELP sink_last_applied_timestamp_seconds When the last batch was committed
# TYPE sink_last_applied_timestamp_seconds gauge
sink_last_applied_timestamp_seconds 0.0
"""


def test_lag_is_summed_over_partitions_and_times_are_read():
    sink = from_metrics(True, METRICS)
    assert sink.available and sink.healthy
    assert sink.lag == 7
    assert sink.last_applied == 1.7957765e09 and sink.last_polled == 1.7957766e09


def test_a_sink_that_never_applied_or_measured_lag_says_so():
    sink = from_metrics(False, FRESH, {"status": "stalled"})
    assert not sink.healthy and sink.state == "stalled"
    assert sink.lag is None and sink.last_applied is None and sink.last_polled is None


def test_an_unreachable_sink_is_unavailable():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    sink = probe(f"http://127.0.0.1:{port}", 1)
    assert not sink.available and not sink.healthy
    assert "Connection refused" in sink.error or "Max retries" in sink.error


def test_a_stuck_sink_says_where_and_why():
    body = {"status": "stuck", "offset": "t[0]@42", "failure": "schema", "attempts": 3}
    body["error"] = "x"
    assert describe(False, body) == "stuck at t[0]@42 (schema, 3 attempts): x"
    assert describe(True, None) == "ok" and describe(False, "not json") == "unhealthy"


def test_every_replica_is_asked_at_once_and_answers_keep_their_order(monkeypatch):
    both_asking = threading.Barrier(2, timeout=5)  # broken unless the two probes overlap

    def slow_probe(url, timeout):
        both_asking.wait()
        return SinkHealth(healthy=True, state=url)

    monkeypatch.setattr(sinkhealth, "probe", slow_probe)
    answers = sinkhealth.probe_all(("http://replica-0", "http://replica-1"), 0.3)
    assert [a.state for a in answers] == ["http://replica-0", "http://replica-1"]
