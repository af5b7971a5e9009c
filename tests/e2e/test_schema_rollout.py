"""Schema evolution on the running stack: a synced field rolled out, then retired, side by side.

Writers on both APIs run throughout; each side is migrated on its own, with a sink restart
between the two sides' steps. The migrations are the test's own (a schema version the product
does not ship), run the way a product migration runs them (ordersync.db.rollout.apply_step).
"""

import random
import uuid

import psycopg2
import pytest

from ordersync.db import rollout, schema_guard
from ordersync.db.roles import OWNER
from ordersync.sync.fieldkinds import Text
from ordersync.sync.mapping import (
    SIDES,
    STORE,
    TABLES,
    WAREHOUSE,
    SchemaVersion,
    SyncedField,
    dead_letter_topic,
    other,
)
from stack import supervisor
from stack.cli import start_component
from stack.components import all_components
from stack.probes import wait_until
from stack.secrets import connect, database_url
from tests.support.kafka import end_offset
from tests.support.load import WriteLoad, lost_writes, notes_by_id
from tests.support.metrics import sink_metric
from tests.support.processes import reconcile
from tests.support.sync import settled

pytestmark = pytest.mark.stack


def gift_note() -> SyncedField:
    """A gift note, named differently on each side, owned by the Store.

    A fresh name each time: the clocks keep a retired field's versions, so a name is used once.
    """
    tag = uuid.uuid4().hex[:8]
    return SyncedField(
        f"gift_{tag}", STORE, Text(200, nullable=True), columns={WAREHOUSE: f"gift_msg_{tag}"}
    )


COMPONENTS = {c.name: c for c in all_components()}


def current_version(side: str) -> int:
    """The schema version a side's database syncs now."""
    conn = connect(side, OWNER.name)
    try:
        with conn.cursor() as cur:
            return rollout.read(cur).version
    finally:
        conn.close()


def migrate(side: str, step: SchemaVersion) -> None:
    """The test's migration of one side: one transaction, as the side's owner."""
    conn = psycopg2.connect(database_url(side, OWNER.name))
    try:
        with conn, conn.cursor() as cur:
            cur.execute("SET lock_timeout = '10s'")
            rollout.apply_step(cur, side, step)
    finally:
        conn.close()


def next_step(**changes) -> SchemaVersion:
    """The schema step after both sides' newest version."""
    return SchemaVersion(max(current_version(s) for s in SIDES) + 1, **changes)


def alter(side: str, change: str) -> None:
    """A plain migration of one side's order table, as its owner, through the guard."""
    conn = connect(side, OWNER.name)
    try:
        with conn.cursor() as cur:
            schema_guard.guarded_execute(cur, side, f"ALTER TABLE {TABLES[side]} {change}")
    finally:
        conn.close()


def drop_column(side: str, field: SyncedField) -> None:
    """The contract step of one side: drop a retired field's column."""
    alter(side, f"DROP COLUMN {field.column(side)}")


# a field only the Warehouse has, added while both sides write
LOCAL = ("dock_door", "varchar(8) DEFAULT 'A'")


def add_local_column(side: str) -> None:
    """A local field on one side: a plain migration of that side alone."""
    alter(side, f"ADD COLUMN IF NOT EXISTS {LOCAL[0]} {LOCAL[1]}")


def restart_sink(target: str) -> None:
    """Restart the sink writing into one side (a deploy of it, say), and wait until it is back."""
    name = f"sink-{other(target)}-to-{target}"
    supervisor.stop(name)
    start_component(COMPONENTS[name])


def dead_letters() -> dict[str, int]:
    """How many dead letters each direction holds (end offsets of the dead-letter topics)."""
    return {side: end_offset(dead_letter_topic(side)) for side in SIDES}


def write_gift(gift: SyncedField, side: str, order_ids: list[str], tag: str) -> dict[str, str]:
    """Set the gift note of some orders by plain SQL on one side; return what was written.

    The same statement sets the tracking number to the note too (the load never writes it): it
    shows when the change has reached the other side, whatever happened to the gift note.
    """
    written = {}
    conn = connect(side)
    try:
        with conn.cursor() as cur:
            for order_id in order_ids:
                note = f"{tag}-{uuid.uuid4().hex[:8]}"
                cur.execute(
                    f"UPDATE {TABLES[side]} SET {gift.column(side)} = %s, tracking_number = %s "
                    "WHERE id = %s AND NOT deleted",
                    (note, note, order_id),
                )
                if cur.rowcount:
                    written[order_id] = note
    finally:
        conn.close()
    return written


def arrived(written: dict[str, str]) -> bool:
    """Tell whether the warehouse shows each write's tracking number (its marker)."""
    tracking = by_id(WAREHOUSE, "tracking_number")
    return all(tracking.get(i) == note for i, note in written.items())


def by_id(side: str, column: str) -> dict:
    """Map each order id of a side to one column's value."""
    conn = connect(side)
    try:
        with conn.cursor() as cur:
            cur.execute(f"SELECT id::text, {column} FROM {TABLES[side]}")
            return dict(cur.fetchall())
    finally:
        conn.close()


def clocks(side: str, field: str) -> dict:
    """Map each order id of a side to its clock entry of one field (None when it has none)."""
    conn = connect(side)
    try:
        with conn.cursor() as cur:
            cur.execute(f"SELECT id::text, field_versions->>%s FROM {TABLES[side]}", (field,))
            return dict(cur.fetchall())
    finally:
        conn.close()


def grow(load: WriteLoad, by: int) -> None:
    """Wait until the writers have had `by` more creates acknowledged (the stack keeps going)."""
    target = len(load.acked.created) + by
    wait_until(lambda: len(load.acked.created) >= target, 120, f"{by} more acknowledged writes")


def some_orders(load: WriteLoad, side: str, n: int) -> list[str]:
    """Up to n orders created through one side's API so far."""
    with load.acked.lock:
        ids = [i for i, s in load.acked.created.items() if s == side]
    return random.Random(n).sample(ids, min(n, len(ids)))


def assert_nothing_lost(load: WriteLoad, letters_before: dict) -> None:
    """Every acknowledged write on both sides, both databases equal, no dead letter."""
    settled()
    wait_until(lambda: reconcile().returncode == 0, 120, "both databases to agree")
    missing, stale = lost_writes(load.acked, notes_by_id(STORE), notes_by_id(WAREHOUSE))
    assert (missing, stale) == ([], [])
    assert dead_letters() == letters_before
    assert len(load.acked.created) > 40


@pytest.fixture
def gift_field():
    """Leave the databases as they were however the test ends: field retired, column dropped,
    and the test's schema versions forgotten (they are no product's history)."""
    before = {side: current_version(side) for side in SIDES}
    gift = gift_note()
    yield gift
    for side in SIDES:
        conn = connect(side, OWNER.name)
        try:
            with conn.cursor() as cur:
                synced = gift.name in rollout.read(cur).names
        finally:
            conn.close()
        if synced:
            migrate(side, next_step(retire=(gift.name,)))
        if gift.column(side) in by_id_columns(side):
            drop_column(side, gift)
        forget_versions_after(side, before[side])
    conn = connect(WAREHOUSE, OWNER.name)
    with conn.cursor() as cur:
        cur.execute(f"ALTER TABLE {TABLES[WAREHOUSE]} DROP COLUMN IF EXISTS {LOCAL[0]}")
    conn.close()


def forget_versions_after(side: str, version: int) -> None:
    """Go back to an earlier schema version whose field set the side syncs again."""
    conn = psycopg2.connect(database_url(side, OWNER.name))
    try:
        with conn, conn.cursor() as cur:
            fields = rollout.read(cur)
            cur.execute("DELETE FROM sync_schema WHERE version > %s", (version,))
            assert rollout.read(cur).names == fields.names, "the side syncs other fields now"
    finally:
        conn.close()


def by_id_columns(side: str) -> set[str]:
    """The columns of a side's order table."""
    conn = connect(side)
    try:
        with conn.cursor() as cur:
            cur.execute(f"SELECT * FROM {TABLES[side]} LIMIT 0")
            return {d.name for d in cur.description}
    finally:
        conn.close()


def test_a_synced_field_rolls_out_one_side_at_a_time_under_writes(apis, gift_field):
    letters = dead_letters()
    add = next_step(add=(gift_field,))
    with WriteLoad() as load:
        grow(load, 20)
        migrate(STORE, add)  # the Store first: the Warehouse has no column for it yet
        add_local_column(WAREHOUSE)  # and a local field on the Warehouse, meanwhile
        grow(load, 10)
        early = write_gift(
            gift_field, STORE, some_orders(load, STORE, 10) + some_orders(load, WAREHOUSE, 10), "s"
        )
        assert early, "no order to write a gift note to"
        restart_sink(WAREHOUSE)  # between the two sides' steps
        grow(load, 10)
        migrate(WAREHOUSE, add)
        done = reconcile("--catch-up", "--fields", gift_field.name)
        assert done.returncode == 0, done.stdout + done.stderr
        late = write_gift(gift_field, WAREHOUSE, some_orders(load, STORE, 5), "w")
        late |= write_gift(gift_field, STORE, some_orders(load, WAREHOUSE, 5), "s2")
        grow(load, 10)
    assert_nothing_lost(load, letters)
    store, warehouse = (
        by_id(STORE, gift_field.column(STORE)),
        by_id(WAREHOUSE, gift_field.column(WAREHOUSE)),
    )
    # the last write of each order wins on both sides, written before or after either step
    expected = early | late
    assert {i: store[i] for i in expected} == expected
    assert {i: warehouse[i] for i in expected} == expected
    # the new field's clock is the same on both sides, for every order both hold (a tombstone
    # may face a purged row)
    store_clocks, warehouse_clocks = (
        clocks(STORE, gift_field.name),
        clocks(WAREHOUSE, gift_field.name),
    )
    both = store_clocks.keys() & warehouse_clocks.keys()
    assert {i: store_clocks[i] for i in both} == {i: warehouse_clocks[i] for i in both}
    assert {i for i, c in store_clocks.items() if c} <= both
    # orders the sink inserted after the local field came take its default
    doors = by_id(WAREHOUSE, LOCAL[0])
    assert {doors[i] for i, side in load.acked.created.items() if side == STORE} == {"A"}


def test_a_retired_field_stops_syncing_then_its_column_is_dropped(apis, gift_field):
    for side in SIDES:
        migrate(side, next_step(add=(gift_field,)))
    letters = dead_letters()
    with WriteLoad() as load:
        grow(load, 20)
        retire = next_step(retire=(gift_field.name,))
        migrate(WAREHOUSE, retire)  # the Warehouse stops first: it no longer takes the field
        restart_sink(STORE)
        grow(load, 10)
        # the Store still syncs it, the Warehouse does not: a Store write stays on the Store
        written = write_gift(gift_field, STORE, some_orders(load, STORE, 5), "kept")
        assert written
        wait_until(lambda: arrived(written), 60, "the store's writes on the warehouse")
        warehouse = by_id(WAREHOUSE, gift_field.column(WAREHOUSE))
        assert not set(written.values()) & set(warehouse.values())
        with pytest.raises(schema_guard.ContractViolation, match=gift_field.name):
            drop_column(STORE, gift_field)  # the Store still syncs it: refused, nothing dropped
        assert gift_field.column(STORE) in by_id_columns(STORE)
        migrate(STORE, retire)
        for side in (STORE, WAREHOUSE):
            drop_column(side, gift_field)  # the contract step, while writes go on
            grow(load, 10)
    assert_nothing_lost(load, letters)
    for side in SIDES:
        assert gift_field.column(side) not in by_id_columns(side)
        conn = connect(side, OWNER.name)
        with conn.cursor() as cur:
            assert gift_field.name not in rollout.read(cur).names
        conn.close()
    # the clocks still hold the retired field's versions: its name cannot come back
    with pytest.raises(psycopg2.errors.CheckViolation, match="still holds versions"):
        migrate(STORE, next_step(add=(gift_field,)))


def backfill(gift: SyncedField, side: str, step: SchemaVersion) -> None:
    """A migration that adds the field and fills it in for existing orders, in one transaction."""
    column = gift.column(side)
    conn = psycopg2.connect(database_url(side, OWNER.name))
    try:
        with conn, conn.cursor() as cur:
            rollout.apply_step(cur, side, step)
            cur.execute(
                f"UPDATE {TABLES[side]} SET {column} = 'for ' || order_number WHERE NOT deleted"
            )
    finally:
        conn.close()


def applied() -> dict[str, float]:
    """Events each sink has applied (written) since it started."""
    return {side: sink_metric(side, "sink_events_total", outcome="applied") for side in SIDES}


def test_a_backfill_of_existing_orders_does_not_echo_back(apis, gift_field):
    settled()
    before = applied()
    add = next_step(add=(gift_field,))
    backfill(gift_field, STORE, add)
    settled()  # the Store's backfill reached the Warehouse's sink: nothing to apply there yet
    backfill(gift_field, WAREHOUSE, add)
    settled()
    # each side filled in its own orders; the other's events found the same value at the same
    # version: no write in either direction, and so nothing to echo
    assert applied() == before
    store, warehouse = (
        by_id(STORE, gift_field.column(STORE)),
        by_id(WAREHOUSE, gift_field.column(WAREHOUSE)),
    )
    both = store.keys() & warehouse.keys()
    assert {i: store[i] for i in both} == {i: warehouse[i] for i in both}
    store_clocks, warehouse_clocks = (
        clocks(STORE, gift_field.name),
        clocks(WAREHOUSE, gift_field.name),
    )
    assert {i: store_clocks[i] for i in both} == {i: warehouse_clocks[i] for i in both}
    done = reconcile("--catch-up", "--fields", gift_field.name)
    assert done.returncode == 0 and "rewrote" not in done.stdout, done.stdout
