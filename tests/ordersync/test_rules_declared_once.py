"""One rule per synced field, declared once: what the sink accepts, the API and the database do.

The sink checks incoming values with the declaration's kinds (ordersync/sync/fieldkinds.py), the API
builds its fields from the same declaration (ordersync/api/schemas.py), and the database checks item
lines with a function generated from it (migration 0012). Here all three judge the same values.
"""

import json

import psycopg2
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from marshmallow import ValidationError

from ordersync.sync.fieldkinds import ITEMS_FUNCTION, BadValue
from ordersync.sync.mapping import LATEST, STORE, TABLES, WAREHOUSE
from store.schemas import StoreOrderSchema
from tests.support import examples
from warehouse.schemas import WarehouseOrderSchema

API = {STORE: StoreOrderSchema(), WAREHOUSE: WarehouseOrderSchema()}
# what the API exposes of each synced field (the tombstone is the DELETE verb, not a field)
EXPOSED = [f for f in LATEST.fields if f.name != "deleted"]

TEXT = st.one_of(
    st.none(),
    st.text(max_size=3),
    st.text(min_size=30, max_size=34),
    st.text(min_size=60, max_size=66),
    st.text(min_size=198, max_size=202),
    st.text(min_size=499, max_size=502),
    st.sampled_from(["a\x00b", "", " "]),
)
SCALAR = st.one_of(st.none(), st.booleans(), st.integers(-3, 10_003), st.floats(0, 3), TEXT)
LINE = st.one_of(
    st.fixed_dictionaries({"sku": SCALAR, "quantity": SCALAR}),
    st.fixed_dictionaries(
        {"sku": SCALAR, "quantity": SCALAR}, optional={"price": SCALAR, "note": SCALAR}
    ),
    st.dictionaries(st.sampled_from(["sku", "quantity", "x"]), SCALAR, max_size=3),
    SCALAR,
)
ITEMS = st.one_of(
    st.lists(LINE, max_size=4), st.lists(st.just({"sku": "A", "quantity": 1}), max_size=102), SCALAR
)
VALUES = st.one_of(TEXT, SCALAR, ITEMS, st.sampled_from(["pending", "shipped", "lost", "PENDING"]))


def sink_accepts(kind, value) -> bool:
    """Whether the sink's check of a kind takes the value."""
    try:
        kind.check(value)
        return True
    except BadValue:
        return False


def api_accepts(side: str, name: str, value) -> bool:
    """Whether the side's API takes the value for a synced field (its own column name)."""
    column = next(f for f in LATEST.fields if f.name == name).column(side)
    try:
        API[side].fields[column].deserialize(value)
        return True
    except ValidationError:
        return False


@settings(max_examples=examples(400), deadline=None)
@given(side=st.sampled_from([STORE, WAREHOUSE]), field=st.sampled_from(EXPOSED), data=st.data())
def test_the_api_and_the_sink_agree_on_every_synced_value(side, field, data):
    value = data.draw(ITEMS if field.name == "items" else VALUES)
    # null for a field the API may leave out: the API fills in its default, the sink its own
    if value is None and field.default is not None:
        return
    assert api_accepts(side, field.name, value) == sink_accepts(field.kind, value), value


@pytest.mark.parametrize("side", [STORE, WAREHOUSE])
def test_the_database_judges_item_lines_as_the_sink_does(test_db, side):
    kind = next(f.kind for f in LATEST.fields if f.name == "items")
    found = []

    @settings(max_examples=examples(300), deadline=None, database=None)
    @given(items=ITEMS)
    def judge(items):
        scalars = list(walk(items))
        if not isinstance(items, list) or any(isinstance(v, float) for v in scalars):
            return  # the column is an array; a float is JSON the sink reads as a float
        if any(isinstance(v, str) and "\x00" in v for v in scalars):
            return  # jsonb cannot hold NUL at all: PostgreSQL refuses it before any check
        with test_db.cursor() as cur:
            cur.execute(f"SELECT public.{ITEMS_FUNCTION}(%s::jsonb) AS ok", (json.dumps(items),))
            found.append(cur.fetchone()["ok"] == sink_accepts(kind, items) or items)

    judge()
    assert all(ok is True for ok in found), [f for f in found if f is not True][:3]


def walk(value):
    """Every scalar inside a JSON-like value."""
    if isinstance(value, dict):
        for inner in value.values():
            yield from walk(inner)
    elif isinstance(value, list):
        for inner in value:
            yield from walk(inner)
    else:
        yield value


@pytest.mark.parametrize(
    "items",
    [
        [{"sku": "", "quantity": 1}],
        [{"sku": "A", "quantity": 0}],
        [{"sku": "A", "quantity": 10**12}],
        [{"sku": "A", "quantity": 1, "price": 3}],
        [{"sku": "A", "quantity": 1.5}],
    ],
)
def test_plain_sql_cannot_store_item_lines_the_api_refuses(test_db, side, items):
    name = next(f for f in LATEST.fields if f.name == "customer_name").column(side)
    with pytest.raises(psycopg2.errors.CheckViolation, match="item_lines_check"):
        with test_db.cursor() as cur:
            cur.execute(
                f"INSERT INTO {TABLES[side]} (id, order_number, {name}, shipping_address, items) "
                "VALUES (gen_random_uuid(), 'SQL-1', 'Sam', '3 Dock Rd', %s::jsonb)",
                (json.dumps(items),),
            )


def test_the_conflict_tables_checks_name_the_merges_winners_and_rules():
    import inspect

    from ordersync.db import migration_ops
    from ordersync.sync.decisions import RULES, WINNERS

    source = inspect.getsource(migration_ops.create_conflict_table)
    assert f"winner IN ({', '.join(repr(w) for w in WINNERS)})" in source
    assert f"rule IN ({', '.join(repr(r) for r in RULES)})" in source
