"""Reading a sink's metrics page into its health, lag and last-applied time."""

import socket
import threading
import time

import pytest

from connectors.sink import health as sink_health
from connectors.sink.health import Health
from ordersync.sync import sinkhealth
from ordersync.sync.sinkhealth import (
    LeftAlone,
    SinkHealth,
    SinkSchema,
    describe,
    from_metrics,
    probe,
    read_schema,
)
from tests.support.fake_sink import fake_sink

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


MID_ROLLOUT = {
    "version": 2,
    "left_alone": [
        {"field": "notes", "why": "event-lacks"},
        {"field": "gift_note", "why": "target-lacks"},
    ],
}


def test_the_schema_of_a_health_answer_is_read():
    sink = from_metrics(True, METRICS, {"status": "ok", "schema": MID_ROLLOUT})
    assert sink.schema == SinkSchema(
        2, (LeftAlone("gift_note", "target-lacks"), LeftAlone("notes", "event-lacks"))
    )


def test_a_sink_that_has_not_written_yet_has_no_version():
    assert read_schema({"schema": {"version": 0, "left_alone": []}}) == SinkSchema(None, ())


@pytest.mark.parametrize("body", [None, "text", [], {}, {"schema": None}, {"schema": [1]}])
def test_an_answer_without_a_schema_object_has_none(body):
    assert read_schema(body) is None


@pytest.mark.parametrize("version", ["2", 2.0, True, -1, 2**31, None, [2]])
def test_a_malformed_version_is_unknown(version):
    assert read_schema({"schema": {"version": version}}).version is None


@pytest.mark.parametrize(
    "entry",
    [
        "gift_note",
        ["gift_note", "target-lacks"],
        {"field": "gift_note"},
        {"field": "gift_note", "why": "because"},
        {"field": "Gift_Note", "why": "target-lacks"},
        {"field": "<b>x</b>", "why": "target-lacks"},
        {"field": "x; DROP TABLE y", "why": "event-lacks"},
        {"field": 7, "why": "event-lacks"},
        {"field": "a" * 64, "why": "event-lacks"},
    ],
)
def test_malformed_entries_are_left_out_and_the_rest_kept(entry):
    good = {"field": "notes", "why": "event-lacks"}
    schema = read_schema({"schema": {"version": 3, "left_alone": [entry, good, good]}})
    assert schema == SinkSchema(3, (LeftAlone("notes", "event-lacks"),))


def test_a_flood_of_entries_is_cut_short():
    flood = [{"field": f"f{n}", "why": "target-lacks"} for n in range(1000)]
    schema = read_schema({"schema": {"version": 1, "left_alone": flood}})
    assert len(schema.left_alone) == sinkhealth.MAX_LEFT_ALONE


def test_left_alone_that_is_not_a_list_is_nothing():
    assert read_schema({"schema": {"version": 1, "left_alone": {"f": 1}}}) == SinkSchema(1, ())


def test_what_the_sink_reports_is_read_back():
    """The sink's own /healthz body, as connectors.sink.health makes it, parses whole."""
    now = time.time()
    health = Health()
    health.left_alone = {
        ("gift_note", "target-lacks"): now,
        ("notes", "event-lacks"): now,
        ("forgotten", "event-lacks"): now - sink_health.ROLLOUT_MEMORY_SECONDS - 1,
    }
    health.schema_version = 2
    assert read_schema(health.body()) == read_schema({"schema": MID_ROLLOUT})
    assert sinkhealth.LEFT_ALONE_MINUTES * 60 == sink_health.ROLLOUT_MEMORY_SECONDS


def test_a_probe_reads_the_schema_over_http():
    with fake_sink({"status": "stalled", "schema": MID_ROLLOUT}, "503 Service Unavailable") as url:
        sink = probe(url, 2)
    assert sink.available and not sink.healthy and sink.state == "stalled"
    assert sink.schema.version == 2 and len(sink.schema.left_alone) == 2
