"""The sink's writes to a real PostgreSQL: exact values (VALUES or COPY), and what it reads."""

import uuid

import psycopg2
import pytest
from psycopg2 import sql
from psycopg2.extensions import (
    TRANSACTION_STATUS_IDLE,
    TRANSACTION_STATUS_INERROR,
    TRANSACTION_STATUS_INTRANS,
)

from connectors.sink.merge import State
from connectors.sink.target import VALUES_ROWS, copy_json, copy_text
from ordersync.sync.mapping import FIELD_NAMES, STORE

TRICKY = [
    "",
    None,
    "tab\there",
    "new\nline\r\n",
    "back\\slash \\N \\.",
    "quote \" and '",
    "ünïcødé ✓ 🚚",
    ",comma;semi",
]


def test_copy_text_escapes_what_copy_interprets():
    assert copy_text(None) == "\\N"
    assert copy_text("") == ""
    assert copy_text(True) == "t" and copy_text(False) == "f"
    assert copy_text("a\tb\nc\\d\re") == "a\\tb\\nc\\\\d\\re"


def test_copy_json_escapes_backslashes_and_keeps_long_integers():
    assert copy_json([{"sku": 'a"\tb'}]) == '[{"sku":"a\\\\"\\\\tb"}]'
    assert copy_json({"n": 10**30}) == '{"n": 1000000000000000000000000000000}'


def state(value) -> State:
    """A new order whose nullable text fields and name carry `value`."""
    values = {
        "order_number": f"T-{uuid.uuid4().hex[:10]}",
        "customer_name": value or "x",
        "shipping_address": value if value else "addr",
        "items": [{"sku": value or "s", "quantity": 1}],
        "status": "pending",
        "tracking_number": value,
        "notes": value,
        "deleted": False,
    }
    return State(str(uuid.uuid4()), values, {n: 3 for n in FIELD_NAMES}, STORE)


@pytest.mark.parametrize("rows", [len(TRICKY), VALUES_ROWS + 1], ids=["values", "copy"])
def test_written_states_read_back_exactly(target, rows):
    states = [state(TRICKY[i % len(TRICKY)]) for i in range(rows)]
    long = states[0]
    # what JSON escapes, at the limits the database allows
    long.values["items"] = [{"sku": 'q"\\\t✓' + "x" * 59, "quantity": 10_000}]
    cur = target.begin()
    target.write(cur, states)
    target.commit()
    cur = target.begin()
    read, _ = target.fetch(cur, [s.id for s in states])
    target.commit()
    for written in states:
        got = read[written.id]
        assert got.values == written.values, written.values["notes"]
        assert got.clock == written.clock
        assert got.author == STORE


def test_rewriting_a_row_updates_it_in_place(target):
    first = state("one")
    cur = target.begin()
    target.write(cur, [first])
    target.commit()
    second = State(
        first.id, first.values | {"notes": None, "status": "shipped"}, first.clock, STORE
    )
    cur = target.begin()
    target.write(cur, [second])
    target.commit()
    cur = target.begin()
    got = target.fetch(cur, [first.id])[0][first.id]
    target.commit()
    assert got.values["notes"] is None and got.values["status"] == "shipped"


def test_one_read_locks_the_rows_and_names_the_purged(target, owner):
    kept, purged, unknown = state("kept"), str(uuid.uuid4()), str(uuid.uuid4())
    cur = target.begin()
    target.write(cur, [kept])
    target.commit()
    with owner.cursor() as cur:
        cur.execute("INSERT INTO purged_order (id) VALUES (%s)", (purged,))
    owner.commit()
    cur = target.begin()
    read, gone = target.fetch(cur, sorted([kept.id, purged, unknown]))
    target.commit()
    assert set(read) == {kept.id} and read[kept.id].values == kept.values
    assert gone == frozenset({purged})


@pytest.mark.parametrize(
    "statement", ["SELECT 1", b"SELECT 1", sql.SQL("SELECT {}").format(sql.Literal(1))]
)
def test_the_first_statement_opens_the_transaction_and_commit_ends_it(target, statement):
    cur = target.begin()
    cur.execute(statement)
    assert cur.fetchone() == (1,)
    assert target.conn.info.transaction_status == TRANSACTION_STATUS_INTRANS
    target.commit()
    assert target.conn.info.transaction_status == TRANSACTION_STATUS_IDLE
    target.commit()  # nothing open: nothing to send


def test_a_failed_statement_is_rolled_back_and_the_session_goes_on(target):
    cur = target.begin()
    with pytest.raises(psycopg2.errors.DivisionByZero):
        cur.execute("SELECT 1 / 0")
    assert target.conn.info.transaction_status == TRANSACTION_STATUS_INERROR
    target.rollback()
    assert target.conn.info.transaction_status == TRANSACTION_STATUS_IDLE
    cur = target.begin()
    cur.execute("SELECT 2")
    assert cur.fetchone() == (2,)
    target.commit()
