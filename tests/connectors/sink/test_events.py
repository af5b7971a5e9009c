"""Parsing Debezium JSON change events into side-neutral states."""

import json

import pytest

from connectors.sink.events import PoisonEvent, parse
from ordersync.sync.mapping import LATEST, STORE, TOMBSTONE, WAREHOUSE


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


def hostile(**overrides) -> bytes:
    """An update whose row carries the given hostile values."""
    return envelope("u", after=warehouse_row(**overrides))


@pytest.mark.parametrize(
    ("value", "names"),
    [
        (b'{"op": "c"}', "row"),
        (b'{"op": "d", "after": {}}', "row"),
        (b"\xff\xfe", "JSON"),
        (b"[" * 100_000, "JSON"),
        (b'"c"', "object"),
        (b'{"op": ["c"]}', "operation"),
        (hostile(field_versions='{"status": "abc"}'), "field_versions.status"),
        (hostile(field_versions="[1]"), "field_versions"),
        (hostile(field_versions='{"status": -1}'), "field_versions.status"),
        (hostile(field_versions='{"status": 9223372036854775807}'), "field_versions.status"),
        (hostile(field_versions='{"status": true}'), "field_versions.status"),
        (hostile(field_versions='{"no pe; drop": 1}'), "not a field name"),
        (hostile(field_versions=json.dumps({f"f{n}": 1 for n in range(65)})), "more than 64"),
        (hostile(field_versions="{"), "invalid JSON"),
        (hostile(id="not-a-uuid"), "id"),
        (hostile(id=7), "id"),
        (hostile(order_number="x" * 33), "order_number"),
        (hostile(order_number=""), "order_number"),
        (hostile(recipient_name="nul\x00here"), "customer_name"),
        (hostile(recipient_name=None), "customer_name"),
        (hostile(status="lost"), "status"),
        (hostile(items="[]"), "items"),
        (hostile(items='{"sku": 1}'), "items"),
        (hostile(items=5), "items"),
        (hostile(notes=["x"]), "notes"),
        (hostile(tracking_number="t" * 65), "tracking_number"),
        (hostile(deleted="false"), "deleted"),
        (hostile(sync_origin="mallory"), "sync_origin"),
        (envelope("u", after=[1, 2]), "row"),
        (b'{"op": "c", "after": {"id": NaN}}', "JSON"),
        (hostile(items='[{"sku": "X", "quantity": NaN}]'), "invalid JSON"),
        (hostile(items='[{"sku": "X", "quantity": 1e400}]'), "invalid JSON"),
        (hostile(items='[{"sku": "X", "quantity": 12345678901234567890123e400}]'), "invalid JSON"),
    ],
)
def test_hostile_events_are_poison_naming_what_is_wrong(value, names):
    with pytest.raises(PoisonEvent, match=names):
        parse(WAREHOUSE, value)


@pytest.mark.parametrize("column", ["id", "sync_origin", "field_versions"])
def test_a_missing_bookkeeping_column_is_named(column):
    row = warehouse_row()
    del row[column]
    with pytest.raises(PoisonEvent, match=f"'{column}'"):
        parse(WAREHOUSE, envelope("c", after=row))


def test_a_missing_synced_column_leaves_its_field_alone():
    row = warehouse_row(field_versions='{"status": 2, "notes": 3}')
    del row["status"], row["notes"]
    state = parse(WAREHOUSE, envelope("u", after=row)).state
    assert "status" not in state.values and "notes" not in state.values
    assert state.clock == {}  # no version without its value


def test_ids_are_read_in_canonical_form():
    upper = "2F1B7D1E-1111-4A4A-9A9A-000000000001"
    assert parse(WAREHOUSE, hostile(id=upper)).state.id == upper.lower()


def test_a_nonsensical_source_time_is_ignored_not_fatal():
    body = json.loads(hostile())
    body["source"] = {"ts_ms": "soon"}
    assert parse(WAREHOUSE, json.dumps(body).encode()).source_ts_ms is None


def test_checks_follow_the_column_lengths_of_the_models():
    from store.models import StoreOrder

    table = StoreOrder.__table__
    for name in ("order_number", "customer_name", "shipping_address", "tracking_number", "notes"):
        limit = table.c[name].type.length
        check = next(f.kind.check for f in LATEST.fields if f.name == name)
        check("x" * limit)
        with pytest.raises(ValueError):
            check("x" * (limit + 1))


@pytest.mark.parametrize(
    "items", [[{"sku": "X", "quantity": 10**30 + 1}], [{"sku": "Y", "quantity": -(2**64) - 1}]]
)
def test_integers_of_any_size_are_read_exactly_and_refused_as_quantities(items):
    # read exactly (never rounded into a valid quantity), then refused as the API refuses them
    for value in (hostile(items=json.dumps(items)), hostile(items=items)):
        with pytest.raises(PoisonEvent, match="item quantity"):
            parse(WAREHOUSE, value)


@pytest.mark.parametrize(
    "line, what",
    [
        ({"sku": "", "quantity": 1}, "item sku"),
        ({"sku": "x" * 65, "quantity": 1}, "item sku"),
        ({"sku": 5, "quantity": 1}, "item sku"),
        ({"sku": "A", "quantity": 0}, "item quantity"),
        ({"sku": "A", "quantity": 10_001}, "item quantity"),
        ({"sku": "A", "quantity": 1.0}, "item quantity"),
        ({"sku": "A", "quantity": True}, "item quantity"),
        ({"sku": "A", "quantity": 1, "price": 3}, "each item"),
        ({"sku": "A"}, "each item"),
        ("A", "each item"),
    ],
)
def test_item_lines_the_api_refuses_are_poison(line, what):
    with pytest.raises(PoisonEvent, match=what):
        parse(WAREHOUSE, hostile(items=json.dumps([{"sku": "ok", "quantity": 1}, line])))


def test_an_update_carries_its_before_image_for_the_merge_to_read_lazily():
    before = warehouse_row(status="packed", field_versions='{"status": 1}')
    event = parse(WAREHOUSE, envelope("u", before=before, after=warehouse_row()))
    base = event.state.base
    assert (base.version("status"), base.value("status")) == (1, "packed")
    assert base.value("customer_name") == "Ann"  # read under the canonical name
    assert base.value("items") == [{"sku": "X", "quantity": 1}]
    assert base.version("notes") is None


def test_a_broken_before_image_is_unknown_never_poison():
    before = warehouse_row(field_versions="not json", items="[")
    base = parse(WAREHOUSE, envelope("u", before=before, after=warehouse_row())).state.base
    assert base.version("status") is None
    assert base.value("items") is not None and base.value("notes") is None


def test_creates_and_snapshot_reads_have_no_before_image():
    assert parse(WAREHOUSE, envelope("c", after=warehouse_row())).state.base is None
    assert parse(WAREHOUSE, envelope("r", after=warehouse_row())).state.base is None
