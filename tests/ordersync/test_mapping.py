"""The mapping is the single source of the field correspondence; the models agree with it."""

import pytest

from ordersync.db import triggers
from ordersync.sync.mapping import (
    LOCAL_FIELDS,
    SIDES,
    STORE,
    SYNCED_FIELDS,
    TOMBSTONE,
    WAREHOUSE,
    columns,
    from_canonical,
    to_canonical,
)
from store.models import StoreOrder
from warehouse.models import WarehouseOrder

MODELS = {STORE: StoreOrder, WAREHOUSE: WarehouseOrder}


def test_the_rename_goes_through_the_mapping():
    assert columns(STORE)["customer_name"] == "customer_name"
    assert columns(WAREHOUSE)["customer_name"] == "recipient_name"


def test_round_trip_between_sides_keeps_values():
    store_row = {c: f"v-{c}" for c in columns(STORE).values()} | {"customer_email": "x@y.z"}
    canonical = to_canonical(STORE, store_row)
    warehouse_row = from_canonical(WAREHOUSE, canonical)
    assert warehouse_row["recipient_name"] == "v-customer_name"
    assert "customer_email" not in warehouse_row
    assert to_canonical(WAREHOUSE, warehouse_row) == canonical


@pytest.mark.parametrize("side", SIDES)
def test_models_have_every_mapped_and_local_column(side):
    table = MODELS[side].__table__
    for column in [*columns(side).values(), *LOCAL_FIELDS[side]]:
        assert column in table.columns, f"{table.name} lacks {column}"


@pytest.mark.parametrize("side", SIDES)
def test_local_fields_are_not_synced(side):
    synced = set(columns(side).values())
    assert not synced & set(LOCAL_FIELDS[side])


def test_every_synced_field_has_an_owner_side():
    assert {f.owner for f in SYNCED_FIELDS} <= set(SIDES)
    assert TOMBSTONE in {f.name for f in SYNCED_FIELDS}


@pytest.mark.parametrize("side", SIDES)
def test_trigger_bumps_each_synced_column_by_its_side_name(side):
    sql = triggers.create_sql(side)
    for field in SYNCED_FIELDS:
        assert f"NEW.{field.column(side)} IS DISTINCT FROM OLD.{field.column(side)}" in sql
    for column in LOCAL_FIELDS[side]:
        assert f"NEW.{column} IS DISTINCT" not in sql
