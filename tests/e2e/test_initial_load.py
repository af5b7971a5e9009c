"""Orders that exist before a connector first streams reach the other side (Debezium snapshot)."""

import uuid

import pytest
import requests

from ordersync.mapping import TABLES, columns
from ordersync.roles import DEBEZIUM
from stack import topology
from tests.e2e.test_sync import arrives, settled
from tests.helpers import connect, topic_events, wait_for

CONNECT = topology.CONNECT_URL


def connector_status(name: str) -> dict:
    """The connector's status document."""
    return requests.get(f"{CONNECT}/connectors/{name}/status", timeout=10).json()


def tasks_running(name: str) -> bool:
    """Tell whether the connector and its task run."""
    status = connector_status(name)
    tasks = status.get("tasks") or []
    return status["connector"]["state"] == "RUNNING" and tasks and tasks[0]["state"] == "RUNNING"


def forget_capture(side: str) -> None:
    """Stop a connector and erase its offsets and slot, as if it had never been registered."""
    name = f"{side}-source"
    requests.put(f"{CONNECT}/connectors/{name}/stop", timeout=30).raise_for_status()
    wait_for(lambda: connector_status(name)["connector"]["state"] == "STOPPED", 60, "stopped")
    requests.delete(f"{CONNECT}/connectors/{name}/offsets", timeout=30).raise_for_status()
    conn = connect(side, role=DEBEZIUM.name)  # the role that owns replication
    with conn.cursor() as cur:
        slot = f"{side}_cdc"
        wait_for(lambda: not slot_active(cur, slot), 60, "slot released")
        cur.execute("SELECT pg_drop_replication_slot(%s)", (slot,))
    conn.close()


def slot_active(cur, slot: str) -> bool:
    """Tell whether a replication slot is in use."""
    cur.execute("SELECT active FROM pg_replication_slots WHERE slot_name = %s", (slot,))
    return cur.fetchone()["active"]


@pytest.mark.parametrize("source, target", [("store", "warehouse"), ("warehouse", "store")])
def test_rows_written_while_nothing_captured_arrive_by_snapshot(stack, source, target):
    settled()
    name = f"{source}-source"
    order_id = uuid.uuid4()
    forget_capture(source)
    try:
        conn = connect(source)
        name_column = columns(source)["customer_name"]
        with conn.cursor() as cur:
            cur.execute(
                f"INSERT INTO {TABLES[source]} (id, order_number, {name_column},"
                " shipping_address, items) VALUES (%s, %s, 'Early Bird', '1 First St', %s)",
                (order_id, f"PRE-{order_id.hex[:10]}", '[{"sku": "P", "quantity": 1}]'),
            )
        conn.close()
    finally:
        requests.put(f"{CONNECT}/connectors/{name}/resume", timeout=30).raise_for_status()
    wait_for(lambda: tasks_running(name), 60, f"{name} running again")
    arrives(target, order_id, shipping_address="1 First St")
    assert [e["op"] for e in topic_events(source, order_id)] == ["r"]
    settled()
