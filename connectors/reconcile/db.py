"""Read both sides' states and rewrite a winning state so the pipeline carries it again."""

import psycopg2
from psycopg2.extras import Json

from connectors.sink.merge import State
from ordersync.mapping import CLOCK_COLUMN, SYNC_COLUMN, TABLES, columns
from ordersync.triggers import APPLYING_SETTING


def load_states(conn, side: str) -> dict[str, State]:
    """Return every order of one side (tombstones included) as canonical states."""
    cols = columns(side)
    select = ", ".join(f"{column} AS {name}" for name, column in cols.items())
    with conn.cursor() as cur:
        cur.execute(f"SELECT id::text, {select}, {CLOCK_COLUMN}, {SYNC_COLUMN} FROM {TABLES[side]}")
        rows = cur.fetchall()
    return {
        row[0]: State(row[0], dict(zip(cols, row[1:-2], strict=True)), row[-2], row[-1])
        for row in rows
    }


def rewrite(conn, side: str, state: State) -> None:
    """Write a state as this side's own authorship, outside any replication origin.

    The change is captured like any local write, and its higher versions win on the other side.
    """
    cols = columns(side)
    names = list(cols)
    values = [Json(state.values[n]) if n == "items" else state.values[n] for n in names]
    assignments = ", ".join(f"{cols[n]} = %s" for n in names)
    with conn.cursor() as cur:
        cur.execute("SELECT set_config(%s, 'on', true)", (APPLYING_SETTING,))
        cur.execute(
            f"UPDATE {TABLES[side]} SET {assignments}, {CLOCK_COLUMN} = %s, {SYNC_COLUMN} = %s "
            "WHERE id = %s",
            (*values, Json(state.clock), side, state.id),
        )
    conn.commit()


def connect(dsn: str):
    """Open a plain connection (no replication origin: repairs must be captured)."""
    return psycopg2.connect(dsn)
