"""Metrics, status and WAL retention on the running stack."""

import json
import subprocess

from bench.client import order_body
from ordersync import topology
from ordersync.db.roles import OWNER
from stack import supervisor
from stack.cli import start_component
from stack.components import all_components
from stack.probes import wait_until
from stack.topology import LOGS
from tests.support.db import connect
from tests.support.metrics import metric, samples, scrape
from tests.support.processes import run_module
from tests.support.sync import arrives, settled


def test_app_metrics_count_requests_by_route_and_status(apis):
    url = f"{topology.app_url('store')}/metrics"
    route = "/api/v1/store-orders/<uuid:order_id>"
    before = metric(scrape(url), "http_requests_total", route=route, status="404")
    for _ in range(3):
        assert apis["store"].status_of("00000000-0000-0000-0000-000000000000") == 404
    after = scrape(url)
    assert metric(after, "http_requests_total", route=route, status="404") == before + 3
    assert metric(after, "http_request_duration_seconds_count", route=route) >= 3


def test_sink_metrics_count_applied_events_and_lag(apis):
    url = f"http://127.0.0.1:{topology.SINK_METRICS_PORTS['warehouse']}/metrics"
    before = scrape(url)
    order = apis["store"].create(order_body("store"))
    arrives("warehouse", order["id"], order_number=order["order_number"])
    settled()
    after = scrape(url)
    assert metric(after, "sink_events_total", reason="applied") > metric(
        before, "sink_events_total", reason="applied"
    )
    assert metric(after, "sink_end_to_end_lag_seconds_count") > metric(
        before, "sink_end_to_end_lag_seconds_count"
    )
    # a sample, not just the HELP line: each partition's lag, observed once a second, reaches 0
    lags = wait_until(
        lambda: (found := samples(scrape(url), "sink_consumer_lag")) and max(found) == 0 and found,
        10,
        "lag samples of 0",
    )
    assert lags and all(lag == 0 for lag in lags)
    log = LOGS / "sink-store-to-warehouse.log"
    events = [
        json.loads(line)
        for line in log.read_text().splitlines()
        if line.startswith("{") and order["id"] in line
    ]
    assert any(e["name"] == "sink.event" and e["outcome"] == "applied" for e in events), events


def status() -> subprocess.CompletedProcess:
    """Run `python -m stack status`."""
    return run_module("stack", "status")


def test_status_shows_everything_and_fails_when_a_sink_is_down(stack):
    settled()
    healthy = status()
    assert healthy.returncode == 0, healthy.stdout
    for part in (
        "slot store/store_cdc",
        "lag store.public.store_order[0]",
        "dead letters",
        "sink into warehouse",
        "drift (reconcile)",
        "connector store-source",
    ):
        assert part in healthy.stdout
    sink = next(c for c in all_components() if c.name == "sink-store-to-warehouse")
    supervisor.stop(sink.name)
    try:
        broken = status()
        assert broken.returncode == 1
        assert "UNHEALTHY" in broken.stdout
    finally:
        start_component(sink)


def retained_mb(side: str) -> float:
    """WAL the side's Debezium slot keeps, in MB."""
    conn = connect(side)
    with conn.cursor() as cur:
        cur.execute(
            "SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), restart_lsn) AS b"
            " FROM pg_replication_slots WHERE slot_name = %s",
            (f"{side}_cdc",),
        )
        value = float(cur.fetchone()["b"]) / 1e6
    conn.close()
    return value


def test_a_quiet_database_does_not_retain_wal_while_another_is_busy(stack):
    # same server, another database (the test twin, as its owner): busy, uncaptured
    conn = connect("store", "store_test", OWNER.name)
    with conn.cursor() as cur:
        cur.execute("CREATE TABLE IF NOT EXISTS wal_noise (x text)")
        cur.execute("INSERT INTO wal_noise SELECT repeat('x', 1000) FROM generate_series(1, 40000)")
        cur.execute("DROP TABLE wal_noise")
    conn.close()
    assert retained_mb("store") > 30  # the noise is in WAL the slot has not released yet
    # the heartbeat action query writes to a captured table, so the slot moves on
    wait_until(lambda: retained_mb("store") < 8, 60, "the slot to release the noise")
