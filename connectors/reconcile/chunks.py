"""Compare two sides in keyset-ordered chunks: a checksum per chunk in SQL, rows only on mismatch.

Memory stays bounded by the chunk size and the differences found, whatever the table size: each
side sums up a range of order ids into one md5 of its synced fields (under the same canonical
order and rendering on both sides), and only a range whose checksums differ is loaded and
compared order by order (compare.py).
"""

from collections.abc import Iterator
from dataclasses import dataclass

from psycopg2.extensions import cursor

from connectors.reconcile.compare import Report, compare
from connectors.reconcile.db import select_states, to_state
from ordersync.mapping import TABLES, columns

CHUNK = 10_000
# the lowest uuid: every id is above it, so the first chunk starts here
LOWEST = "00000000-0000-0000-0000-000000000000"


def tuples(conn):
    """A cursor returning plain tuples, whatever the connection's default cursor factory."""
    return conn.cursor(cursor_factory=cursor)


@dataclass
class Chunked:
    """The report of a chunked comparison, with the states of the orders that differ."""

    report: Report
    states: dict[str, dict]
    chunks: int = 0
    drilled: int = 0


def checksum_sql(side: str) -> str:
    """One range's row count and md5 of its synced fields in canonical order (a row constructor
    renders NULL and '' differently, and jsonb's text form does not depend on key order)."""
    fields = ", ".join(f"{column}::text" for column in columns(side).values())
    return (
        f"SELECT count(*), md5(string_agg(ROW(id::text, {fields})::text, E'\\n' ORDER BY id)) "
        f"FROM {TABLES[side]} WHERE id > %s::uuid AND (%s::uuid IS NULL OR id <= %s::uuid)"
    )


def boundaries(conn, side: str, size: int) -> Iterator[tuple[str, str | None]]:
    """Consecutive id ranges (low, high] of about `size` orders of one side; the last is open."""
    low = LOWEST
    with tuples(conn) as cur:
        while True:
            cur.execute(
                f"SELECT id::text FROM {TABLES[side]} WHERE id > %s::uuid ORDER BY id "
                "LIMIT 1 OFFSET %s",
                (low, size - 1),
            )
            row = cur.fetchone()
            if row is None:
                yield low, None
                return
            yield low, row[0]
            low = row[0]


def checksum(conn, side: str, low: str, high: str | None) -> tuple[int, str | None]:
    """The count and checksum of one side's orders in (low, high]."""
    with tuples(conn) as cur:
        cur.execute(checksum_sql(side), (low, high, high))
        return cur.fetchone()


def load_range(conn, side: str, low: str, high: str | None) -> dict:
    """One side's states in (low, high]."""
    where = "WHERE id > %s::uuid AND (%s::uuid IS NULL OR id <= %s::uuid)"
    with tuples(conn) as cur:
        cur.execute(select_states(side, where), (low, high, high))
        return {row[0]: to_state(side, row) for row in cur.fetchall()}


def compare_chunked(conns: dict, size: int = CHUNK) -> Chunked:
    """Compare the store and the warehouse chunk by chunk; drill into chunks that differ."""
    result = Chunked(Report(), {"store": {}, "warehouse": {}})
    for low, high in boundaries(conns["store"], "store", size):
        result.chunks += 1
        sums = {side: checksum(conn, side, low, high) for side, conn in conns.items()}
        if sums["store"] == sums["warehouse"]:
            continue
        result.drilled += 1
        states = {side: load_range(conn, side, low, high) for side, conn in conns.items()}
        part = compare(states["store"], states["warehouse"])
        for side in result.report.missing:
            result.report.missing[side] += part.missing[side]
        result.report.differing += part.differing
        for side, found in states.items():
            differing = {s.id for s, _, _ in part.differing}
            missing = {s.id for x in part.missing.values() for s in x}
            keep = differing | missing
            result.states[side] |= {i: s for i, s in found.items() if i in keep}
    return result


def live_numbers(conn, side: str) -> Iterator[tuple[str, str]]:
    """(order_number, id) of one side's live orders in number order, streamed from the server."""
    with conn.cursor(name=f"live_numbers_{side}", cursor_factory=cursor) as cur:
        cur.itersize = CHUNK
        cur.execute(
            f"SELECT order_number, id::text FROM {TABLES[side]} WHERE NOT deleted "
            'ORDER BY order_number COLLATE "C"'
        )
        yield from cur


def clashes_streamed(conns: dict) -> list[tuple[str, str, str]]:
    """Numbers held by one live order on the store and another on the warehouse (a merge join)."""
    found = []
    store, warehouse = (
        live_numbers(conns["store"], "store"),
        live_numbers(conns["warehouse"], "warehouse"),
    )
    a, b = next(store, None), next(warehouse, None)
    while a is not None and b is not None:
        if a[0] == b[0]:
            if a[1] != b[1]:
                found.append((a[0], a[1], b[1]))
            a, b = next(store, None), next(warehouse, None)
        elif a[0] < b[0]:
            a = next(store, None)
        else:
            b = next(warehouse, None)
    return found


def load_order(conn, side: str, order_id: str) -> dict:
    """One order's state on one side ({} when absent)."""
    with tuples(conn) as cur:
        cur.execute(select_states(side, "WHERE id = %s::uuid"), (order_id,))
        return {row[0]: to_state(side, row) for row in cur.fetchall()}
