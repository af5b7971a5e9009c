"""A lost stream position recovers by itself: each cause ends in a new snapshot, nothing lost.

For every cause, writes on both sides before, during (the connector stopped) and after; then
both databases agree, reconcile is clean, and the target recorded exactly one more snapshot of
the source. No step but the cause itself is done by hand.
"""

from contextlib import contextmanager

import pytest
import requests

from bench.client import order_body
from ordersync import topology as t
from ordersync.db.roles import DEBEZIUM, READER, SNAPSHOT_TABLE
from ordersync.sync.mapping import other
from stack import supervisor
from stack.alerts import firing
from stack.cli import start_component
from stack.components import all_components, connect_workers
from stack.probes import wait_until
from stack.secrets import connect_auth
from stack.topology import SUPERUSER
from tests.support.db import connect
from tests.support.processes import connector_status, reconcile, tasks_running
from tests.support.sync import arrives, settled


def rest(method: str, path: str, **kwargs) -> requests.Response:
    """Call Connect's REST API as the launcher."""
    response = requests.request(
        method, f"{t.CONNECT_URL}{path}", timeout=30, auth=connect_auth(), **kwargs
    )
    response.raise_for_status()
    return response


def snapshots_applied(source: str) -> int:
    """How many snapshots of the source its target's sink has applied."""
    conn = connect(other(source), role=READER.name)
    with conn.cursor() as cur:
        cur.execute(f"SELECT count(*) AS n FROM {SNAPSHOT_TABLE} WHERE source = %s", (source,))
        n = cur.fetchone()["n"]
    conn.close()
    return n


def superuser(side: str):
    """An autocommit session as the database superuser (WAL and settings)."""
    return connect(side, database=side, role=SUPERUSER)


def slot(side: str) -> dict | None:
    """The side's connector slot as pg_replication_slots shows it."""
    conn = superuser(side)
    with conn.cursor() as cur:
        cur.execute(
            "SELECT active, wal_status, restart_lsn, confirmed_flush_lsn"
            " FROM pg_replication_slots WHERE slot_name = %s",
            (f"{side}_cdc",),
        )
        row = cur.fetchone()
    conn.close()
    return row


@contextmanager
def connector_stopped(side: str):
    """Stop a side's connector (its slot released), run the body, resume it."""
    name = f"{side}-source"
    rest("PUT", f"/connectors/{name}/stop")
    wait_until(lambda: connector_status(name)["connector"]["state"] == "STOPPED", 60, "stopped")
    wait_until(lambda: not (slot(side) or {}).get("active"), 60, "slot released")
    try:
        yield name
    finally:
        rest("PUT", f"/connectors/{name}/resume")


def drop_slot(side: str) -> None:
    """Drop the connector's slot, as an operator cleaning up might."""
    conn = connect(side, role=DEBEZIUM.name)
    with conn.cursor() as cur:
        cur.execute("SELECT pg_drop_replication_slot(%s)", (f"{side}_cdc",))
    conn.close()


def advance_slot(side: str) -> None:
    """Consume the slot past the connector's stored position, as another Connect cluster would.

    Each confirmation moves the slot's restart point by one running-transactions record at most,
    so it is advanced until the restart point, too, has passed the stored position.
    """
    stored = max(o["offset"]["lsn"] for o in stored_offsets(f"{side}-source"))
    conn = superuser(side)

    def past() -> bool:
        with conn.cursor() as cur:
            cur.execute("SELECT pg_log_standby_snapshot()")
            cur.execute(
                "SELECT pg_replication_slot_advance(%s, pg_current_wal_lsn())", (f"{side}_cdc",)
            )
            cur.execute(
                "SELECT pg_wal_lsn_diff(restart_lsn, '0/0')::bigint AS restart"
                " FROM pg_replication_slots WHERE slot_name = %s",
                (f"{side}_cdc",),
            )
            return cur.fetchone()["restart"] > stored

    wait_until(past, 30, f"{side}_cdc's restart point past the stored position")
    conn.close()


def stored_offsets(name: str) -> list:
    """The connector's offsets as Connect stores them."""
    return rest("GET", f"/connectors/{name}/offsets").json()["offsets"]


def write_during(apis, source: str, live: dict, gone: dict) -> list[dict]:
    """Writes while the source's changes cannot stream: a create, an update and a delete."""
    created = apis[source].create(order_body(source))
    apis[source].patch(live["id"], {"status": "processing"})
    apis[source].delete(gone["id"])
    return [created]


def recovered(apis, source: str, before: int, during: list, live: dict, gone: dict) -> None:
    """Writes after the recovery arrive too, and everything written during it did."""
    target = other(source)
    wait_until(lambda: tasks_running(f"{source}-source"), 120, f"{source}-source running")
    after = apis[source].create(order_body(source))
    back = apis[target].create(order_body(target))
    for order in [*during, after]:
        arrives(target, order["id"], order_number=order["order_number"])
    arrives(target, live["id"], status="processing")
    arrives(target, gone["id"], deleted=True)
    arrives(source, back["id"], order_number=back["order_number"])
    settled()
    wait_until(lambda: reconcile().returncode == 0, 120, "both databases to agree")
    assert snapshots_applied(source) == before + 1


def prepared(apis, source: str) -> tuple[int, dict, dict]:
    """Two synced orders of the source (one to update, one to delete) and the snapshot count."""
    settled()
    live, gone = (apis[source].create(order_body(source)) for _ in range(2))
    for order in (live, gone):
        arrives(other(source), order["id"], order_number=order["order_number"])
    return snapshots_applied(source), live, gone


@pytest.mark.parametrize("source", ["store", "warehouse"])
def test_a_dropped_slot_is_recreated_and_the_source_snapshotted(apis, source):
    before, live, gone = prepared(apis, source)
    with connector_stopped(source):
        during = write_during(apis, source, live, gone)
        drop_slot(source)
    recovered(apis, source, before, during, live, gone)


def test_a_slot_another_reader_advanced_is_snapshotted_from(apis):
    before, live, gone = prepared(apis, "store")
    with connector_stopped("store"):
        during = write_during(apis, "store", live, gone)
        advance_slot("store")  # the changes written during the stop are consumed elsewhere
    recovered(apis, "store", before, during, live, gone)


def test_lost_kafka_offsets_end_in_a_snapshot(apis):
    before, live, gone = prepared(apis, "warehouse")
    with connector_stopped("warehouse") as name:
        rest("DELETE", f"/connectors/{name}/offsets")
        during = write_during(apis, "warehouse", live, gone)
    recovered(apis, "warehouse", before, during, live, gone)


def test_offsets_restored_from_an_older_backup_end_in_a_snapshot(apis):
    before, live, gone = prepared(apis, "store")
    with connector_stopped("store") as name:
        backup = stored_offsets(name)
    # the slot moves on past the backup: later changes are streamed and confirmed
    newer = apis["store"].create(order_body("store"))
    arrives("warehouse", newer["id"], order_number=newer["order_number"])
    with connector_stopped("store") as name:
        advance_slot("store")
        rest("PATCH", f"/connectors/{name}/offsets", json={"offsets": backup})
        during = write_during(apis, "store", live, gone)
    recovered(apis, "store", before, during, live, gone)


def watchdog_metrics() -> str:
    """The watchdog's Prometheus text."""
    return requests.get(f"http://{t.HOST}:{t.WATCHDOG_METRICS_PORT}/metrics", timeout=5).text


def slot_lost_fires(side: str) -> bool:
    """Whether monitoring/alerts.yml's SlotLost fires for the side, run by promtool on a scrape."""
    scraped = {"watchdog": watchdog_metrics()}
    return any(f'side="{side}"' in labels for labels in firing("SlotLost", scraped, 3))


@contextmanager
def wal_limit(side: str, megabytes: int):
    """Lower max_slot_wal_keep_size on a side for the body, then restore the stack's value."""
    conn = superuser(side)
    with conn.cursor() as cur:
        cur.execute(f"ALTER SYSTEM SET max_slot_wal_keep_size = '{megabytes}MB'")
        cur.execute("SELECT pg_reload_conf()")
    try:
        yield conn
    finally:
        with conn.cursor() as cur:
            cur.execute("ALTER SYSTEM RESET max_slot_wal_keep_size")
            cur.execute("SELECT pg_reload_conf()")
        conn.close()


def pile_up_wal(conn) -> None:
    """Write and switch WAL segments, then checkpoint: past the limit, the idle slot is lost."""
    with conn.cursor() as cur:
        for _ in range(4):
            cur.execute("SELECT pg_logical_emit_message(false, 'ballast', repeat('x', 1000000))")
            cur.execute("SELECT pg_switch_wal()")
        cur.execute("CHECKPOINT")


def invalidated(conn) -> bool:
    """Pile up WAL once more; tell whether the slot is lost (or already dropped by the watchdog)."""
    pile_up_wal(conn)
    found = slot("store")
    return found is None or found["wal_status"] == "lost"


def test_a_slot_invalidated_while_connect_is_down_alerts_then_recovers(apis):
    before, live, gone = prepared(apis, "store")
    workers = [c for c in all_components() if c.name in connect_workers()]
    for worker in workers:
        supervisor.stop(worker.name)
    try:
        during = write_during(apis, "store", live, gone)
        with wal_limit("store", 1) as conn:
            wait_until(lambda: invalidated(conn), 60, "the slot invalidated")
            wait_until(lambda: slot_lost_fires("store"), 30, "SlotLost firing")
    finally:
        for worker in workers:
            start_component(worker)
    recovered(apis, "store", before, during, live, gone)
    wait_until(lambda: not slot_lost_fires("store"), 30, "SlotLost quiet again")
