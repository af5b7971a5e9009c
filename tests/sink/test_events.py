"""Parsing Debezium JSON change events into side-neutral states."""

import json

import pytest

from connectors.sink.events import PoisonEvent, parse
from ordersync.mapping import STORE, TOMBSTONE, WAREHOUSE


def warehouse_row(**overrides) -> dict:
    """A warehouse_order row as Debezium's JsonConverter renders it."""
    row = {
        "id": "2f1b7d1e-1111-4a4a-9a9a-000000000001",
        "order_number": "A-1",
        "recipient_name": "Ann",
        "shipping_address": "1 Main St",
        "items": '[{"sku": "X", "quantity": 1}]',
        "status": "shipped",
        "tracking_number": "T1",
        "notes": None,
        "deleted": False,
        "sync_origin": "warehouse",
        "field_versions": '{"status": 2}',
        "bin_location": "A3",
        "weight_grams": 500,
    }
    return row | overrides


def envelope(op: str, before=None, after=None) -> bytes:
    """Encode a Debezium envelope."""
    body = {"op": op, "before": before, "after": after, "source": {"ts_ms": 1700000000000}}
    return json.dumps(body).encode()


def test_update_maps_renamed_field_and_decodes_json_columns():
    event = parse(WAREHOUSE, envelope("u", after=warehouse_row()))
    assert event.op == "u"
    assert event.state.values["customer_name"] == "Ann"
    assert event.state.values["items"] == [{"sku": "X", "quantity": 1}]
    assert event.state.clock == {"status": 2}
    assert event.state.author == WAREHOUSE
    assert event.source_ts_ms == 1700000000000


def test_local_only_columns_never_enter_the_state():
    values = parse(WAREHOUSE, envelope("c", after=warehouse_row())).state.values
    assert "bin_location" not in values and "weight_grams" not in values
    assert "recipient_name" not in values


def test_snapshot_reads_are_changes_like_any_other():
    assert (
        parse(WAREHOUSE, envelope("r", after=warehouse_row())).state.values["status"] == "shipped"
    )


def test_hard_delete_arrives_as_a_tombstone_authored_by_the_source():
    event = parse(WAREHOUSE, envelope("d", before=warehouse_row(sync_origin=STORE)))
    assert event.state.values[TOMBSTONE] is True
    assert event.state.author == WAREHOUSE


def test_kafka_tombstone_message_is_nothing_to_do():
    assert parse(STORE, None) is None


@pytest.mark.parametrize(
    "value",
    [b"not json", b"[]", b'{"after": {}}', envelope("t"), envelope("u", after={"id": "x"})],
)
def test_unusable_events_are_poison(value):
    with pytest.raises(PoisonEvent):
        parse(WAREHOUSE, value)
