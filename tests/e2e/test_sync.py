"""Two-way sync through the real pipeline: PostgreSQL WAL, Debezium, Kafka, the sinks."""

import uuid

from bench.client import order_body
from ordersync.sync.mapping import LOCAL_FIELDS, TABLES
from stack.probes import wait_until
from tests.support.db import connect, fetch_row
from tests.support.kafka import quiet_for, topic_events
from tests.support.sync import arrives, settled


def test_store_create_and_warehouse_update_sync_once_each_then_stay_still(apis):
    store, warehouse = apis["store"], apis["warehouse"]
    order = store.create(order_body("store", customer_email="ann@example.com"))
    row = arrives("warehouse", order["id"], order_number=order["order_number"])
    assert row["recipient_name"] == order["customer_name"]
    assert row["sync_origin"] == "store"
    assert all(row[c] is None for c in LOCAL_FIELDS["warehouse"])

    warehouse.patch(
        order["id"], {"status": "shipped", "tracking_number": "TRK-1", "bin_location": "A-3"}
    )
    back = arrives("store", order["id"], status="shipped", tracking_number="TRK-1")
    assert back["customer_email"] == "ann@example.com"
    assert "bin_location" not in back

    settled()
    assert quiet_for(3, order["id"]) == []
    # one event per logical write, on the writer's topic only: the sinks' writes never echo
    assert [e["op"] for e in topic_events("store", order["id"])] == ["c"]
    assert [e["op"] for e in topic_events("warehouse", order["id"])] == ["u"]
    assert fetch_row("store", order["id"])["version"] == back["version"]


def test_warehouse_create_appears_in_store_with_store_fields_null(apis):
    order = apis["warehouse"].create(order_body("warehouse", weight_grams=1200))
    row = arrives("store", order["id"], order_number=order["order_number"])
    assert row["customer_name"] == order["recipient_name"]
    assert all(row[c] is None for c in LOCAL_FIELDS["store"])


def test_local_only_change_causes_no_write_on_the_other_side(apis):
    order = apis["store"].create(order_body("store"))
    before = arrives("warehouse", order["id"], order_number=order["order_number"])
    apis["store"].patch(order["id"], {"customer_email": "new@example.com", "currency": "EUR"})
    wait_until(lambda: len(topic_events("store", order["id"])) == 2, 30, "the local change event")
    settled()
    after = fetch_row("warehouse", order["id"])
    assert (after["version"], after["updated_at"]) == (before["version"], before["updated_at"])


def test_delete_on_either_side_reaches_the_other(apis):
    for source, target in (("store", "warehouse"), ("warehouse", "store")):
        order = apis[source].create(order_body(source))
        arrives(target, order["id"], order_number=order["order_number"])
        apis[source].delete(order["id"])
        arrives(target, order["id"], deleted=True)
        assert apis[target].status_of(order["id"]) == 404


def test_plain_sql_writes_sync_both_ways(apis):
    for source, target in (("store", "warehouse"), ("warehouse", "store")):
        order_id = uuid.uuid4()
        name = "customer_name" if source == "store" else "recipient_name"
        conn = connect(source)
        with conn.cursor() as cur:
            cur.execute(
                f"INSERT INTO {TABLES[source]} (id, order_number, {name}, shipping_address, items)"
                " VALUES (%s, %s, 'Sql Person', '9 Query Ln', %s)",
                (order_id, f"SQL-{order_id.hex[:10]}", '[{"sku": "Q", "quantity": 3}]'),
            )
            arrives(target, order_id, shipping_address="9 Query Ln")
            cur.execute(f"UPDATE {TABLES[source]} SET notes = 'bulk' WHERE id = %s", (order_id,))
            arrives(target, order_id, notes="bulk")
            cur.execute(f"DELETE FROM {TABLES[source]} WHERE id = %s", (order_id,))
            arrives(target, order_id, deleted=True)
        conn.close()
