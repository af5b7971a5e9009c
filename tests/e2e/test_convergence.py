"""Concurrent edits, replay, dead letters and reconcile on the running stack."""

import json
import os
import subprocess
import sys
import uuid

import requests

from bench.client import order_body
from ordersync.db.roles import SINK
from ordersync.kafka.access import ADMIN
from ordersync.sync.mapping import dead_letter_topic
from stack import topology
from stack.probes import free_port, wait_until
from stack.secrets import database_url, kafka_env
from tests.support.db import column_by_id, connect, fetch_row
from tests.support.kafka import read_topic, sink_caught_up
from tests.support.processes import reconcile, sinks_paused
from tests.support.sync import arrives, settled


def synced_order(apis) -> dict:
    """Create an order in the Store and wait until the Warehouse has it."""
    order = apis["store"].create(order_body("store"))
    arrives("warehouse", order["id"], order_number=order["order_number"])
    return order


def both(order_id, **expected):
    """Wait until both sides hold the expected values."""
    return arrives("store", order_id, **expected), arrives("warehouse", order_id, **expected)


def test_concurrent_edits_of_different_fields_both_survive(apis):
    order = synced_order(apis)
    with sinks_paused():
        apis["store"].patch(order["id"], {"shipping_address": "2 Moved St"})
        apis["warehouse"].patch(order["id"], {"status": "processing"})
    both(order["id"], shipping_address="2 Moved St", status="processing")


def test_concurrent_edits_of_one_field_end_with_the_owners_value(apis):
    order = synced_order(apis)
    with sinks_paused():
        apis["store"].patch(order["id"], {"status": "cancelled", "notes": "store says"})
        apis["warehouse"].patch(order["id"], {"status": "shipped", "notes": "warehouse says"})
    # status belongs to the warehouse, notes to the store
    store, warehouse = both(order["id"], status="shipped", notes="store says")
    assert store["field_versions"] == warehouse["field_versions"]


def test_delete_concurrent_with_update_stays_deleted(apis):
    order = synced_order(apis)
    with sinks_paused():
        apis["store"].delete(order["id"])
        apis["warehouse"].patch(order["id"], {"status": "shipped", "tracking_number": "LATE"})
    both(order["id"], deleted=True)
    assert apis["warehouse"].status_of(order["id"]) == 404
    assert apis["store"].status_of(order["id"]) == 404


def snapshot(side: str) -> dict:
    """Map every order id of a side to its row version."""
    return column_by_id(side, "version")


def test_replaying_a_topic_from_the_beginning_changes_nothing(apis):
    synced_order(apis)
    settled()
    group = f"replay-{uuid.uuid4().hex[:8]}"
    port = free_port()
    before = snapshot("warehouse")
    env = os.environ | {
        "SINK_DATABASE_URL": database_url("warehouse", SINK.name),
        # this stack's Kafka, as the admin: a scratch group no job principal may use
        **kafka_env(ADMIN),
        "SINK_GROUP_ID": group,
        "SINK_METRICS_PORT": str(port),
    }
    replay = subprocess.Popen(
        [sys.executable, "-m", "connectors.sink", "--source", "store", "--target", "warehouse"],
        cwd=topology.ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_until(lambda: sink_caught_up("store", group), 60, "the replay consumer")
        metrics = requests.get(f"http://127.0.0.1:{port}/metrics", timeout=5).text
    finally:
        replay.terminate()
        replay.wait(30)
    assert 'sink_events_total{outcome="skipped",reason="duplicate"}' in metrics
    applied = [line for line in metrics.splitlines() if 'outcome="applied"' in line]
    assert applied == [], applied
    assert snapshot("warehouse") == before
    settled()


def dead_letters(side: str) -> list[dict]:
    """Every record in one side's dead-letter topic."""
    return read_topic(dead_letter_topic(side))


def test_conflicting_creates_are_dead_lettered_then_resolved_by_rename(apis):
    number = f"DUP-{uuid.uuid4().hex[:8]}"
    with sinks_paused():
        in_store = apis["store"].create(order_body("store", order_number=number))
        in_warehouse = apis["warehouse"].create(order_body("warehouse", order_number=number))

    def lettered(side, order_id):
        return [r for r in dead_letters(side) if str(order_id) in (r["event"] or "")]

    # refused for the number, each waits parked (SINK_PARK_SECONDS) for a partner that never comes
    record = wait_until(lambda: lettered("store", in_store["id"]), 60, "a dead letter")[0]
    assert record["reason"] == "rejected-by-database"
    assert "order_number" in record["error"]
    assert json.loads(record["event"])["after"]["order_number"] == number
    wait_until(lambda: lettered("warehouse", in_warehouse["id"]), 60, "the reverse dead letter")
    assert fetch_row("warehouse", in_store["id"]) is None

    synced_order(apis)  # both sinks keep going past their dead letters
    back = apis["warehouse"].create(order_body("warehouse"))
    arrives("store", back["id"], order_number=back["order_number"])

    settled()
    listed = reconcile("--clashes")
    assert (
        f"{number!r} is store order {in_store['id']} and warehouse order {in_warehouse['id']}"
        in listed.stdout
    )
    renamed = reconcile("--rename", in_warehouse["id"], f"{number}-W")
    assert renamed.returncode == 0, renamed.stdout + renamed.stderr
    arrives("store", in_warehouse["id"], order_number=f"{number}-W")
    settled()
    assert reconcile("--clashes").returncode == 0
    reconcile("--repair")  # the dead-lettered store order crosses with versions above both
    arrives("warehouse", in_store["id"], order_number=number)
    settled()
    assert reconcile().returncode == 0


def test_reconcile_finds_and_repairs_an_injected_difference(apis):
    order = synced_order(apis)
    settled()
    conn = connect("warehouse", role=SINK.name)
    with conn.cursor() as cur:
        # the sink's role claiming the store wrote it: the store's sink drops it as an echo
        cur.execute(
            "UPDATE warehouse_order SET status = 'delivered', sync_origin = 'store' WHERE id = %s",
            (order["id"],),
        )
    conn.close()
    settled()
    found = reconcile()
    assert found.returncode == 1, found.stdout
    assert f"differs: {order['id']}" in found.stdout
    assert "status: store='pending' warehouse='delivered'" in found.stdout

    repaired = reconcile("--repair")
    assert "rewrote 1 orders" in repaired.stdout
    # equal versions: the merge rule gives status to its owner, the warehouse
    both(order["id"], status="delivered")
    settled()
    final = reconcile()
    assert final.returncode == 0, final.stdout
