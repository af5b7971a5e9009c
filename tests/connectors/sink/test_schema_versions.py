"""Events of schema N-1, N and N+1 parsed and merged by a target at any of them."""

import json
from dataclasses import replace

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from psycopg2.extensions import cursor

from connectors.sink.events import MAX_VERSION, OPS, PoisonEvent, checks, parse
from connectors.sink.failures import SchemaChanged
from connectors.sink.merge import State, merge, plan_batch
from connectors.sink.target import VALUES_ROWS
from ordersync.db import rollout, triggers
from ordersync.db.roles import SCHEMA_TABLE
from ordersync.sync.fieldkinds import MAX_ITEMS, Choice, Flag, Integer, Items, Text
from ordersync.sync.mapping import (
    CLOCK_COLUMN,
    LATEST,
    LOCAL_FIELDS,
    MAX_FIELDS,
    NAME,
    SIDES,
    STORE,
    SYNC_COLUMN,
    TABLES,
    TOMBSTONE,
    WAREHOUSE,
    FieldSet,
    SchemaVersion,
    SyncedField,
)
from tests.support import examples
from tests.support.fakes import BASE, state

GIFT_NOTE = SyncedField(
    "gift_note", STORE, Text(200, nullable=True), columns={WAREHOUSE: "gift_message"}
)
PARCELS = SyncedField("parcels", WAREHOUSE, Integer(1, 20), default=1)

# N-1: the schema before `notes` was synced
OLDER = FieldSet(LATEST.version - 1, tuple(f for f in LATEST.fields if f.name != "notes"))
NEWER = LATEST.after(SchemaVersion(LATEST.version + 1, add=(GIFT_NOTE,)))
# another N+1: two new fields (one NOT NULL with a default), and one field no longer synced
RETIRING = LATEST.after(
    SchemaVersion(LATEST.version + 1, add=(GIFT_NOTE, PARCELS), retire=("tracking_number",))
)
SCHEMAS = {"N-1": OLDER, "N": LATEST, "N+1": NEWER, "N+1 retiring": RETIRING}
PAIRS = [(source, target) for source in SCHEMAS for target in SCHEMAS]
ALL_NAMES = sorted({name for schema in SCHEMAS.values() for name in schema.names})

PROPERTY = settings(
    max_examples=examples(30),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)

# --- what a source at some schema version sends ---------------------------------------------

# PostgreSQL text holds no NUL and no lone surrogate
CHARS = st.characters(codec="utf-8", exclude_characters="\x00")
LINE = st.fixed_dictionaries(
    {"sku": st.text(CHARS, min_size=1, max_size=8), "quantity": st.integers(1, 10_000)}
)
# small versions make ties and stale events common; the largest one is allowed too
CLOCK_VERSIONS = st.integers(0, 3) | st.just(MAX_VERSION)
# clock entries of any field, of this schema, another one, or one never declared here
CLOCK_NAMES = st.sampled_from(ALL_NAMES) | st.from_regex(NAME, fullmatch=True)


def texts(kind: Text):
    """Strings a text kind accepts, short ones and ones at its length limit."""
    shortest = 0 if kind.nullable else 1
    return st.text(CHARS, min_size=shortest, max_size=min(kind.max_length, 40)) | CHARS.map(
        lambda c: c * kind.max_length
    )


def valid(kind):
    """Values a field's kind accepts (null too when it is nullable)."""
    match kind:
        case Text():
            values = texts(kind)
        case Choice():
            values = st.sampled_from(kind.choices)
        case Flag():
            values = st.booleans()
        case Integer():
            values = st.integers(kind.minimum, kind.maximum)
        case Items():
            values = st.lists(LINE, min_size=1, max_size=MAX_ITEMS)
    return st.none() | values if kind.nullable else values


def invalid(kind):
    """Values a field's kind refuses, as a Debezium row may carry them."""
    match kind:
        case Text():
            bad = [7, True, ["x"], "x" * (kind.max_length + 1), "nul\x00here"]
            bad += [] if kind.nullable else [""]
        case Choice():
            bad = ["lost", "", 7, True]
        case Flag():
            bad = ["false", 0, 1]
        case Integer():
            bad = [kind.minimum - 1, kind.maximum + 1, True, "1"]
        case Items():
            too_many = json.dumps([{"sku": "X", "quantity": 1}] * (MAX_ITEMS + 1))
            bad = ["[]", too_many, '{"sku": "X"}', '"X"', 5]
    return st.sampled_from(bad + ([] if kind.nullable else [None]))


# valid values of every field of each schema, built once (a strategy is costly to build)
VALUES = {
    name: st.fixed_dictionaries({f.name: valid(f.kind) for f in schema.fields})
    for name, schema in SCHEMAS.items()
}


@st.composite
def rows(draw, at: str, source: str) -> tuple[dict, dict, dict]:
    """A valid row of `source` at schema `at` as Debezium sends it, its values and its clock."""
    schema, values = SCHEMAS[at], draw(VALUES[at])
    clock = draw(st.dictionaries(CLOCK_NAMES, CLOCK_VERSIONS, max_size=16))
    row = {
        "id": str(draw(st.uuids())),
        SYNC_COLUMN: draw(st.sampled_from(SIDES)),
        CLOCK_COLUMN: json.dumps(clock),  # jsonb columns arrive as JSON text
        "version": draw(st.integers(1, 99)),
        "created_at": "2026-12-06T19:07:24.206625Z",
        "updated_at": "2026-12-06T19:07:24.206625Z",
    }
    local = st.none() | st.integers() | st.text(CHARS, max_size=8)
    row |= {column: draw(local) for column in LOCAL_FIELDS[source]}
    for f in schema.fields:
        value = values[f.name]
        row[f.column(source)] = json.dumps(value) if isinstance(f.kind, Items) else value
    return row, values, clock


@st.composite
def local_states(draw, at: str, order_id: str) -> State:
    """A target row at schema `at`; its clock may keep entries of fields it no longer syncs."""
    values = draw(VALUES[at])
    clock = draw(st.dictionaries(st.sampled_from(ALL_NAMES), CLOCK_VERSIONS))
    return State(order_id, values, clock, draw(st.sampled_from(SIDES)))


def message(op: str, row: dict) -> bytes:
    """A Debezium envelope of one row change."""
    before, after = (row, None) if op == "d" else (None, row)
    body = {"op": op, "before": before, "after": after, "source": {"ts_ms": 1}}
    return json.dumps(body).encode()


# --- parse, then merge: only what both schemas sync moves ------------------------------------


def assert_merged_only_what_it_carries(local: State, remote: State, merged: State) -> None:
    """Fields the remote lacks keep value and clock entry; the others take the newer version."""
    assert merged.values.keys() == local.values.keys()
    for name in local.values.keys() - remote.values.keys():
        assert merged.values[name] == local.values[name]
    for name in local.clock.keys() - remote.values.keys():
        assert merged.clock[name] == local.clock[name]
    for name in remote.values:
        lv, rv = local.version(name), remote.version(name)
        assert merged.version(name) == max(lv, rv)
        # a field never written on either side gets no clock entry
        assert (name in merged.clock) == (name in local.clock or rv > 0)
        if name != TOMBSTONE and lv != rv:
            assert merged.values[name] == (remote if rv > lv else local).values[name]
    assert merged.clock.keys() <= local.clock.keys() | remote.clock.keys()


@pytest.mark.parametrize("source", SIDES)
@pytest.mark.parametrize(("at", "into"), PAIRS)
@PROPERTY
@given(data=st.data())
def test_an_event_carries_exactly_the_fields_both_schemas_sync(source, at, into, data):
    row, values, clock = data.draw(rows(at, source), "row")
    op = data.draw(st.sampled_from(sorted(OPS)), "op")
    target = SCHEMAS[into]
    event = parse(source, message(op, row), checks(target, source))
    shared = set(SCHEMAS[at].names) & set(target.names)
    expected = {name: values[name] for name in shared}
    if op == "d":  # a purge on the source: a tombstone here
        expected[TOMBSTONE] = True
    assert event.state.values == expected
    assert event.state.clock == {n: v for n, v in clock.items() if n in shared}
    assert event.absent == tuple(n for n in target.names if n not in SCHEMAS[at].names)
    assert event.unsynced == tuple(sorted(n for n in clock if n not in target.names))
    local = data.draw(local_states(into, event.state.id), "local")
    merged, _ = merge(local, event.state, source, target)
    assert_merged_only_what_it_carries(local, event.state, merged)
    inserted, conflicts = merge(None, event.state, source, target)
    assert inserted.values == target.defaults | event.state.values
    assert inserted.clock == event.state.clock and conflicts == ()


@pytest.mark.parametrize(("at", "into"), PAIRS)
@PROPERTY
@given(data=st.data())
def test_a_bad_value_of_a_field_both_sync_is_poison(at, into, data):
    source = data.draw(st.sampled_from(SIDES), "source")
    row, _, _ = data.draw(rows(at, source), "row")
    shared = [f for f in SCHEMAS[into].fields if f.name in SCHEMAS[at].names]
    field = data.draw(st.sampled_from(shared), "field")
    row[field.column(source)] = data.draw(invalid(field.kind), "value")
    with pytest.raises(PoisonEvent, match=f"^{field.name}: "):
        parse(source, message("u", row), checks(SCHEMAS[into], source))


MALFORMED_CLOCKS = [
    ({"no pe; drop": 1}, "not a field name"),
    ({"Notes": 1}, "not a field name"),
    ({f"f{n}": 1 for n in range(MAX_FIELDS + 1)}, f"more than {MAX_FIELDS}"),
    # a bad version is refused even for a field neither side syncs
    ({"zz_future": -1}, "zz_future"),
    ({"gift_note": MAX_VERSION + 1}, "gift_note"),
    ({"notes": True}, "notes"),
    ([1], "expected an object"),
]


@pytest.mark.parametrize(("at", "into"), PAIRS)
@PROPERTY
@given(data=st.data())
def test_a_malformed_clock_is_poison_whatever_the_schemas(at, into, data):
    source = data.draw(st.sampled_from(SIDES), "source")
    row, _, _ = data.draw(rows(at, source), "row")
    clock, names = data.draw(st.sampled_from(MALFORMED_CLOCKS), "clock")
    row[CLOCK_COLUMN] = json.dumps(clock)
    with pytest.raises(PoisonEvent, match=names):
        parse(source, message("u", row), checks(SCHEMAS[into], source))


# --- the merge with a field set given --------------------------------------------------------

FIRST_FIELDS = ("order_number", "customer_name", "shipping_address", "items")


def test_a_new_row_takes_the_declared_defaults_of_fields_the_event_lacks():
    values = {name: BASE[name] for name in FIRST_FIELDS}
    # a clock entry without its value says nothing: it is not kept either
    remote = State("o1", values, {"order_number": 2, "status": 4}, STORE)
    latest = merge(None, remote, STORE, LATEST).state
    assert latest.values == values | {
        "status": "pending",
        "tracking_number": None,
        "notes": None,
        TOMBSTONE: False,
    }
    assert latest.clock == {"order_number": 2}
    retiring = merge(None, remote, STORE, RETIRING).state
    assert retiring.values == values | {
        "status": "pending",
        "notes": None,
        TOMBSTONE: False,
        "gift_note": None,
        "parcels": 1,
    }


def test_names_the_target_does_not_sync_are_ignored():
    remote = state(STORE, {"gift_note": 5}, gift_note="for Ann")
    for local in (None, state(WAREHOUSE)):
        merged = merge(local, remote, STORE, LATEST).state
        assert "gift_note" not in merged.values and "gift_note" not in merged.clock
        assert merged.values.keys() == set(LATEST.names)


@pytest.mark.parametrize("owner", SIDES)
def test_a_tie_on_a_new_field_goes_to_its_owner_in_the_field_set_given(owner):
    fields = LATEST.after(SchemaVersion(LATEST.version + 1, add=(replace(GIFT_NOTE, owner=owner),)))
    store = state(STORE, {"gift_note": 2}, gift_note="from the store")
    warehouse = state(WAREHOUSE, {"gift_note": 2}, gift_note="from the warehouse")
    at_warehouse, conflicts = merge(warehouse, store, STORE, fields)
    at_store, _ = merge(store, warehouse, WAREHOUSE, fields)
    winner = store if owner == STORE else warehouse
    assert at_warehouse.values["gift_note"] == winner.values["gift_note"]
    assert at_store.values["gift_note"] == winner.values["gift_note"]
    assert [c.field for c in conflicts] == ["gift_note"]


def test_the_owner_in_a_tie_comes_from_the_field_set_given_not_the_latest():
    flipped = FieldSet(
        LATEST.version,
        tuple(replace(f, owner=STORE) if f.name == "status" else f for f in LATEST.fields),
    )
    store = state(STORE, {"status": 3}, status="cancelled")
    warehouse = state(WAREHOUSE, {"status": 3}, status="shipped")
    assert merge(warehouse, store, STORE).state.values["status"] == "shipped"
    assert merge(warehouse, store, STORE, flipped).state.values["status"] == "cancelled"


def test_a_field_never_written_on_either_side_stays_unversioned():
    clock = dict.fromkeys(LATEST.names, 1)  # rows written before gift_note existed
    local = State("o1", BASE | {"gift_note": None}, clock, WAREHOUSE)
    remote = State("o1", BASE | {"gift_note": None, "notes": "new"}, clock | {"notes": 2}, STORE)
    merged = merge(local, remote, STORE, NEWER).state
    assert "gift_note" not in merged.clock
    assert merged.clock["notes"] == 2 and merged.values["notes"] == "new"


def test_plan_batch_merges_with_the_field_set_given():
    current = {"o1": State("o1", BASE | {"gift_note": None}, {}, WAREHOUSE)}
    event = state(STORE, {"gift_note": 1}, gift_note="for Ann")
    writes, _ = plan_batch([event], current, STORE, WAREHOUSE, fields=NEWER)
    assert writes["o1"].values["gift_note"] == "for Ann"
    assert writes["o1"].clock["gift_note"] == 1
    writes, _ = plan_batch([event], current, STORE, WAREHOUSE)
    assert writes["o1"].values["gift_note"] is None and "gift_note" not in writes["o1"].clock


# --- a real migration under a connected target -----------------------------------------------


def undo_sql(before: FieldSet) -> list[str]:
    """The statements that take warehouse_test back to `before` after the tests' migrations."""
    return [
        f"ALTER TABLE {TABLES[WAREHOUSE]} DROP COLUMN IF EXISTS {GIFT_NOTE.column(WAREHOUSE)}",
        f"DELETE FROM {SCHEMA_TABLE} WHERE version > {before.version}",
        triggers.create_sql(WAREHOUSE, before),
    ]


@pytest.fixture
def migrate(owner, target):
    """Run statements as the owner in one transaction, as a migration does; undo them after.

    warehouse_test is shared by the whole suite: whatever the test did, it leaves the schema
    version and the columns it found.
    """

    def run(statements: list[str]) -> None:
        with owner.cursor(cursor_factory=cursor) as cur:
            cur.execute("SET lock_timeout = '5s'")  # fail, not hang, if a session holds the table
            cur.execute(";\n".join(statements))  # one simple query: one implicit transaction

    with owner.cursor(cursor_factory=cursor) as cur:
        before = rollout.read(cur)
    try:
        yield run
    finally:
        target.reset()  # a test that failed mid-batch must not hold the table the undo alters
        run(undo_sql(before))


def new_order(fields: FieldSet, n: int) -> State:
    """A new store order with every field of `fields`, as the sink writes it."""
    values = fields.defaults | {name: BASE[name] for name in FIRST_FIELDS}
    values["order_number"] = f"V-{n}"
    return State(f"00000000-0000-4000-8000-{n:012d}", values, dict.fromkeys(fields.names, 1), STORE)


def write(target, states: list[State]) -> None:
    """Write states in one committed sink transaction."""
    cur = target.begin()
    target.write(cur, states)
    target.commit()


def read(target, ids: list[str]) -> dict[str, State]:
    """Read rows back as the sink does (locking them in a transaction it commits)."""
    cur = target.begin()
    states, _ = target.fetch(cur, sorted(ids))
    target.commit()
    return states


def assert_moves_on(target, order_id: str, fields: FieldSet) -> None:
    """The next fetch refuses the batch; after the rollback the target syncs `fields`."""
    cur = target.begin()
    with pytest.raises(SchemaChanged):
        target.fetch(cur, [order_id])
    target.reset()
    target.ensure_connected()  # what the retried batch does first: the stage is made anew
    assert target.fields == fields


def add_gift_note(target, migrate) -> FieldSet:
    """Migrate warehouse_test to a version that syncs gift_note; return that field set."""
    step = SchemaVersion(target.fields.version + 1, add=(GIFT_NOTE,))
    migrate(rollout.step_sql(WAREHOUSE, target.fields, step))
    return target.fields.after(step)


def test_a_connected_target_follows_a_migration_that_adds_a_field(target, migrate, owner):
    order = new_order(target.fields, 0)
    write(target, [order])
    assert_moves_on(target, order.id, add_gift_note(target, migrate))
    # the row written before the migration reads back with null in the new column
    got = read(target, [order.id])[order.id]
    assert got.values == order.values | {"gift_note": None}
    gift = State(order.id, got.values | {"gift_note": "for Ann"}, got.clock, STORE)
    # enough rows to go through COPY and the stage, which must have the new column too
    states = [gift, *(new_order(target.fields, n) for n in range(1, VALUES_ROWS + 2))]
    write(target, states)
    assert read(target, [s.id for s in states]) == {s.id: s for s in states}
    with owner.cursor(cursor_factory=cursor) as cur:
        cur.execute(f"SELECT gift_message FROM {TABLES[WAREHOUSE]} WHERE id = %s", (order.id,))
        assert cur.fetchone() == ("for Ann",)


def test_a_target_idle_through_a_retirement_and_the_drop_of_its_column_moves_on(target, migrate):
    order = new_order(target.fields, 0)
    write(target, [order])
    with_gift = add_gift_note(target, migrate)
    assert_moves_on(target, order.id, with_gift)
    # no batch comes while the field is retired and its column dropped (as the guide says)
    step = SchemaVersion(with_gift.version + 1, retire=("gift_note",))
    migrate(rollout.step_sql(WAREHOUSE, with_gift, step))
    migrate([f"ALTER TABLE {TABLES[WAREHOUSE]} DROP COLUMN {GIFT_NOTE.column(WAREHOUSE)}"])
    assert_moves_on(target, order.id, with_gift.after(step))
    assert read(target, [order.id])[order.id].values == order.values
