"""Orders that exist before a connector first streams reach the other side (Debezium snapshot)."""

import uuid

import pytest

from ordersync.sync.mapping import TABLES, columns
from tests.support.db import connect
from tests.support.kafka import topic_events
from tests.support.processes import recaptured
from tests.support.sync import arrives, settled


@pytest.mark.parametrize("source, target", [("store", "warehouse"), ("warehouse", "store")])
def test_rows_written_while_nothing_captured_arrive_by_snapshot(stack, source, target):
    settled()
    order_id = uuid.uuid4()
    with recaptured(source):
        conn = connect(source)
        name_column = columns(source)["customer_name"]
        with conn.cursor() as cur:
            cur.execute(
                f"INSERT INTO {TABLES[source]} (id, order_number, {name_column},"
                " shipping_address, items) VALUES (%s, %s, 'Early Bird', '1 First St', %s)",
                (order_id, f"PRE-{order_id.hex[:10]}", '[{"sku": "P", "quantity": 1}]'),
            )
        conn.close()
    arrives(target, order_id, shipping_address="1 First St")
    assert [e["op"] for e in topic_events(source, order_id)] == ["r"]
    settled()
