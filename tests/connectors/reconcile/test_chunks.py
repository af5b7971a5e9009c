"""Chunked comparison on real databases: checksums per id range, rows only where they differ."""

import uuid

import pytest

from connectors.reconcile.chunks import clashes_streamed, compare_chunked
from ordersync.db.roles import OWNER
from ordersync.sync.mapping import SIDES, TABLES, columns
from tests.support.db import connect


@pytest.fixture
def sides(apps):
    """Owner sessions on both test databases, emptied, closed afterwards."""
    conns = {side: connect(side, f"{side}_test", OWNER.name) for side in SIDES}
    for side, conn in conns.items():
        with conn.cursor() as cur:
            cur.execute(f"TRUNCATE {TABLES[side]}, purged_order")
    yield conns
    for conn in conns.values():
        conn.close()


def insert(conn, side: str, order_id: str, number: str, notes: str | None = None) -> None:
    """Insert one order with fixed values (the same on both sides gives the same checksum)."""
    name = columns(side)["customer_name"]
    with conn.cursor() as cur:
        cur.execute(
            f"INSERT INTO {TABLES[side]} (id, order_number, {name}, shipping_address, items, notes)"
            """ VALUES (%s, %s, 'Ann', '1 Main St', '[{"sku": "A", "quantity": 1}]', %s)""",
            (order_id, number, notes),
        )


def fill(conns, count: int) -> list[str]:
    """The same orders on both sides."""
    ids = sorted(str(uuid.uuid4()) for _ in range(count))
    for i, order_id in enumerate(ids):
        for side, conn in conns.items():
            insert(conn, side, order_id, f"CH-{i}")
    return ids


def test_equal_sides_compare_by_checksum_alone(sides):
    fill(sides, 25)
    result = compare_chunked(sides)
    assert result.report.in_sync
    assert (result.chunks, result.drilled) == (1, 0)


def test_only_chunks_that_differ_are_loaded_and_reported(sides):
    ids = fill(sides, 25)
    store, warehouse = sides["store"], sides["warehouse"]
    with warehouse.cursor() as cur:
        cur.execute("UPDATE warehouse_order SET notes = NULL WHERE id = %s", (ids[3],))
        cur.execute("UPDATE warehouse_order SET notes = '' WHERE id = %s", (ids[4],))
        cur.execute("UPDATE warehouse_order SET deleted = true WHERE id = %s", (ids[24],))
    with store.cursor() as cur:
        cur.execute("UPDATE store_order SET deleted = true WHERE id = %s", (ids[24],))
        cur.execute("DELETE FROM store_order WHERE id = %s", (ids[24],))  # the owner purges
    extra = "ffffffff-ffff-4fff-bfff-ffffffffffff"  # in the last, open-ended chunk
    insert(warehouse, "warehouse", extra, "CH-extra")
    result = compare_chunked(sides)
    assert [(s.id, names) for s, _, names in result.report.differing] == [(ids[4], ["notes"])]
    assert [s.id for s in result.report.missing["store"]] == [extra]
    assert result.report.missing["warehouse"] == []
    assert (result.chunks, result.drilled) == (1, 1)  # 26 orders: loaded at once
    assert set(result.states["warehouse"]) == {ids[4], extra}


def test_number_clashes_are_found_by_a_merge_join(sides):
    a, b = str(uuid.uuid4()), str(uuid.uuid4())
    insert(sides["store"], "store", a, "SAME")
    insert(sides["warehouse"], "warehouse", b, "SAME")
    shared = str(uuid.uuid4())
    for side, conn in sides.items():
        insert(conn, side, shared, "SHARED")
    for conn in sides.values():
        conn.autocommit = False  # as reconcile's own sessions: streaming needs a transaction
    assert clashes_streamed(sides) == [("SAME", a, b)]


def test_large_ranges_are_split_and_only_differing_parts_loaded(sides, monkeypatch):
    from connectors.reconcile import chunks

    monkeypatch.setattr(chunks, "LOAD_AT", 4)
    ids = fill(sides, 64)
    with sides["warehouse"].cursor() as cur:
        cur.execute("UPDATE warehouse_order SET notes = 'x' WHERE id = %s", (ids[10],))
    result = compare_chunked(sides)
    assert [s.id for s, _, _ in result.report.differing] == [ids[10]]
    assert result.chunks > 1 and result.drilled == 1
    assert set(result.states["store"]) == {ids[10]}
