"""Compare two sides by ranges of order ids: a checksum per range in SQL, rows only on mismatch.

Memory stays bounded by the differences found, whatever the table size: each side sums up a range
of ids into one checksum of its synced fields (rendered the same way on both sides); equal ranges
are done, a differing one is split sixteen ways by id value (order ids are random uuids, so the
parts are about even), down to a few hundred orders, which are loaded and compared order by order
(compare.py). Both sides are queried at once.
"""

import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from psycopg2.extensions import cursor

from connectors.reconcile.compare import Report, compare
from connectors.reconcile.db import select_states, shared_fields, to_state
from ordersync.sync.mapping import CLOCK_COLUMN, TABLES, FieldSet

# a range whose checksums differ is split into this many ranges of ids, down to LOAD_AT orders
FANOUT = 16
LOAD_AT = 500
TOP = 2**128  # one past the highest uuid


def tuples(conn):
    """A cursor returning plain tuples, whatever the connection's default cursor factory."""
    return conn.cursor(cursor_factory=cursor)


@dataclass
class Chunked:
    """The report of a chunked comparison, with the states of the orders that differ."""

    report: Report
    states: dict[str, dict]
    fields: FieldSet
    clocks: bool = False  # compare clock entries too, not only values
    chunks: int = 0
    drilled: int = 0


def as_uuid(value: int) -> str:
    """A uuid from its integer."""
    return str(uuid.UUID(int=value))


# both bounds inclusive and always present, so every range query is an index range scan
WHERE = "WHERE id BETWEEN %s::uuid AND %s::uuid"


def checksum_sql(side: str, fields: FieldSet, clocks: bool = False) -> str:
    """One range's row count and the sum of a 64-bit hash of each order's synced fields.

    A row constructor renders NULL and '' differently, and jsonb's text form does not depend on
    key order, so equal orders hash equally on both sides. A sum needs no sort and no index
    order, and `hashtextextended` is PostgreSQL's own fast hash (both sides run the same one).
    """
    values = ", ".join(f"{column}::text" for column in fields.columns(side).values())
    if clocks:
        values += ", " + ", ".join(f"{CLOCK_COLUMN}->>'{name}'" for name in fields.names)
    return (
        f"SELECT count(*), sum(hashtextextended(ROW(id::text, {values})::text, 0)::numeric) "
        f"FROM {TABLES[side]} {WHERE}"
    )


def bounds(low: int, high: int) -> tuple:
    """The query parameters of the id range [low, high)."""
    return as_uuid(low), as_uuid(high - 1)


def checksum(conn, side: str, low: int, high: int, fields: FieldSet, clocks: bool) -> tuple:
    """The count and checksum of one side's orders in [low, high)."""
    with tuples(conn) as cur:
        cur.execute(checksum_sql(side, fields, clocks), bounds(low, high))
        return cur.fetchone()


def load_range(conn, side: str, low: int, high: int, fields: FieldSet) -> dict:
    """One side's states in [low, high)."""
    with tuples(conn) as cur:
        cur.execute(select_states(side, WHERE, fields), bounds(low, high))
        return {row[0]: to_state(row, fields) for row in cur.fetchall()}


def on_both(pool, conns: dict, work, *args) -> dict:
    """Run work(conn, side, *args) on both sides at once (each side is its own server)."""
    futures = {side: pool.submit(work, conn, side, *args) for side, conn in conns.items()}
    return {side: future.result() for side, future in futures.items()}


def compare_chunked(conns: dict, names=None) -> Chunked:
    """Compare the store and the warehouse: whole-table checksums, split only where they differ.

    Compared are the fields both sides sync now, or only `names` of them, and then their clock
    entries too (what a rollout's catch-up needs).
    """
    fields = shared_fields(conns)
    fields = fields.only(names) if names else fields
    result = Chunked(Report(), {"store": {}, "warehouse": {}}, fields, clocks=bool(names))
    with ThreadPoolExecutor(max_workers=len(conns)) as pool:
        compare_range(pool, conns, 0, TOP, result)
    return result


def compare_range(pool, conns: dict, low: int, high: int, result: Chunked) -> None:
    """Compare ids in [low, high): equal checksums end it, else split it or load its rows."""
    result.chunks += 1
    sums = on_both(pool, conns, checksum, low, high, result.fields, result.clocks)
    if sums["store"] == sums["warehouse"]:
        return
    if max(sums["store"][0], sums["warehouse"][0]) > LOAD_AT and high - low > FANOUT:
        step = (high - low) // FANOUT
        for i in range(FANOUT):
            sub_high = high if i == FANOUT - 1 else low + (i + 1) * step
            compare_range(pool, conns, low + i * step, sub_high, result)
        return
    result.drilled += 1
    states = on_both(pool, conns, load_range, low, high, result.fields)
    part = compare(states["store"], states["warehouse"], result.clocks)
    for side in result.report.missing:
        result.report.missing[side] += part.missing[side]
    result.report.differing += part.differing
    keep = {s.id for s, _, _ in part.differing} | {s.id for x in part.missing.values() for s in x}
    for side, found in states.items():
        result.states[side] |= {i: s for i, s in found.items() if i in keep}


def live_numbers(conn, side: str) -> Iterator[tuple[str, str]]:
    """(order_number, id) of one side's live orders in number order, streamed from the server."""
    with conn.cursor(name=f"live_numbers_{side}", cursor_factory=cursor) as cur:
        cur.itersize = 10_000
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


def load_order(conn, side: str, order_id: str, fields: FieldSet) -> dict:
    """One order's state on one side ({} when absent)."""
    with tuples(conn) as cur:
        cur.execute(select_states(side, "WHERE id = %s::uuid", fields), (order_id,))
        return {row[0]: to_state(row, fields) for row in cur.fetchall()}
