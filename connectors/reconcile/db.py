"""Read both sides' states, and rewrite winning states so the pipeline carries them again."""

import psycopg2
from psycopg2.extensions import cursor
from psycopg2.extras import Json

from connectors.sink.merge import State
from ordersync.db import rollout
from ordersync.sync.mapping import CLOCK_COLUMN, LATEST, SIDES, SYNC_COLUMN, TABLES, FieldSet


def select_states(side: str, where: str = "", fields: FieldSet = LATEST) -> str:
    """The query of one side's canonical states (tombstones included)."""
    cols = fields.columns(side)
    select = ", ".join(f"{column} AS {name}" for name, column in cols.items())
    return f"SELECT id::text, {select}, {CLOCK_COLUMN}, {SYNC_COLUMN} FROM {TABLES[side]} {where}"


def to_state(row, fields: FieldSet = LATEST) -> State:
    """Build a canonical state from a row of select_states."""
    return State(row[0], dict(zip(fields.names, row[1:-2], strict=True)), row[-2], row[-1])


def shared_fields(conns: dict) -> FieldSet:
    """The fields both sides sync now (each side's database says which: ordersync.db.rollout)."""
    found = {}
    for side in SIDES:
        with conns[side].cursor(cursor_factory=cursor) as cur:  # tuples, whatever the default
            found[side] = rollout.read(cur)
        conns[side].rollback()  # a read-only look: end its transaction
    return found[SIDES[0]].shared(found[SIDES[1]])


def rewrite(
    conn, side: str, expected: dict[str, State], wanted: list[State], fields: FieldSet = LATEST
) -> list[str]:
    """Write winning states in one transaction, skipping rows that changed since they were read.

    The rows are locked first and compared with what reconcile saw: a write that raced us is
    newer than our verdict, so it is left alone (run reconcile again). The write runs as the
    sink's role without a replication origin, so it is captured like a local write and its
    higher versions win on the other side. Returns the ids that were skipped.
    """
    cols = fields.columns(side)
    assignments = ", ".join(f"{cols[n]} = %s" for n in cols)
    skipped = []
    with conn, conn.cursor() as cur:
        # a swap of two numbers is checked in its end state, as the sink does
        cur.execute("SET CONSTRAINTS ALL DEFERRED")
        ids = [s.id for s in wanted]
        cur.execute(select_states(side, "WHERE id = ANY(%s::uuid[]) FOR UPDATE", fields), (ids,))
        current = {row[0]: to_state(row, fields) for row in cur.fetchall()}
        for state in wanted:
            before = expected.get(state.id)
            now = current.get(state.id)
            if now is None or before is None or not now.same_as(before):
                skipped.append(state.id)
                continue
            values = [Json(state.values[n]) if n == "items" else state.values[n] for n in cols]
            # `||`: the clock entries of fields left out of this comparison stay as they are
            cur.execute(
                f"UPDATE {TABLES[side]} SET {assignments}, "
                f"{CLOCK_COLUMN} = {CLOCK_COLUMN} || %s, {SYNC_COLUMN} = %s WHERE id = %s",
                (*values, Json(state.clock), side, state.id),
            )
    return skipped


def connect(dsn: str):
    """Open a plain connection (no replication origin: repairs must be captured)."""
    return psycopg2.connect(dsn, connect_timeout=10)
