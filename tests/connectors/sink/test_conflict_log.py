"""The conflict log in a real PostgreSQL: written with the batch, once per decision, purged."""

import json
import uuid
from collections import Counter

import psycopg2
import pytest
from psycopg2.extras import RealDictCursor

from connectors.sink.deadletters import DeadLetters
from connectors.sink.processor import Processor
from ordersync.db.roles import APP, CONFLICT_TABLE, READER
from ordersync.sync.mapping import FIELD_NAMES, STORE, WAREHOUSE
from stack.secrets import database_url
from tests.support.fakes import Message, change


def conflicts(owner) -> list[dict]:
    """Every recorded conflict, oldest first."""
    with owner.cursor(cursor_factory=RealDictCursor) as cur:
        cur.execute(f"SELECT * FROM {CONFLICT_TABLE} ORDER BY id")
        return cur.fetchall()


def edit_here(owner, order_id: str, **values) -> None:
    """A warehouse user's edit (the trigger bumps the versions)."""
    sets = ", ".join(f"{name} = %s" for name in values)
    with owner.cursor() as cur:
        cur.execute(
            f"UPDATE warehouse_order SET {sets} WHERE id = %s", (*values.values(), order_id)
        )


def store_edit(order_id: str, version: int, before_version: int, **values) -> bytes:
    """A store update of an order from `before_version` to `version` of every field."""
    after = json.loads(change("N-1", order_id, version))["after"] | values
    before = json.loads(change("N-1", order_id, before_version))["after"]
    body = {"op": "u", "before": before, "after": after, "source": {"ts_ms": 1}}
    return json.dumps(body).encode()


@pytest.fixture
def processor(owner, target, producer):
    return Processor(STORE, WAREHOUSE, target, DeadLetters(producer, "store.dlq"))


def test_a_tie_is_recorded_with_the_apply_and_a_replay_adds_nothing(owner, processor):
    order_id = str(uuid.uuid4())
    processor.process([Message(change("N-1", order_id), 10)])
    edit_here(owner, order_id, status="shipped", notes="warehouse note")  # both at version 2
    tie = store_edit(order_id, 2, 1, status="cancelled", notes="store note")
    recorded = processor.process([Message(tie, 11)]).conflicts
    assert recorded == Counter({("status", "owner_tie"): 1, ("notes", "owner_tie"): 1})
    assert not processor.process([Message(tie, 11)]).conflicts  # replayed: nothing recorded
    # re-read at another offset (a new snapshot, say)
    assert not processor.process([Message(tie, 99)]).conflicts
    rows = {row["field"]: row for row in conflicts(owner)}
    assert sorted(rows) == ["notes", "status"]
    status, notes = rows["status"], rows["notes"]
    assert (status["winner"], status["rule"]) == ("local", "owner_tie")  # the warehouse owns it
    assert (status["local_value"], status["incoming_value"]) == ("shipped", "cancelled")
    assert (status["local_version"], status["incoming_version"]) == (2, 2)
    assert (notes["winner"], notes["local_value"], notes["incoming_value"]) == (
        "incoming",
        "warehouse note",
        "store note",
    )
    assert str(status["order_id"]) == order_id and status["decided_at"] is not None
    assert (status["source_topic"], status["source_partition"], status["source_offset"]) == (
        "store.public.store_order",
        0,
        11,
    )


def test_edits_of_different_fields_record_nothing(owner, processor):
    order_id = str(uuid.uuid4())
    processor.process([Message(change("N-1", order_id), 10)])
    edit_here(owner, order_id, status="shipped")
    clock = {n: 1 for n in FIELD_NAMES} | {"notes": 2}
    edit = json.loads(store_edit(order_id, 1, 1, notes="store note"))
    edit["after"]["field_versions"] = json.dumps(clock)
    processor.process([Message(json.dumps(edit).encode(), 11)])
    assert conflicts(owner) == []


def test_a_batch_rolled_back_records_nothing(owner, processor, target, monkeypatch):
    order_id = str(uuid.uuid4())
    processor.process([Message(change("N-1", order_id), 10)])
    edit_here(owner, order_id, status="shipped")

    def broken_commit():
        raise psycopg2.errors.SerializationFailure("try again")

    monkeypatch.setattr(target, "commit", broken_commit)
    with pytest.raises(psycopg2.Error):
        processor.process([Message(store_edit(order_id, 2, 1, status="cancelled"), 11)])
    monkeypatch.undo()
    target.rollback()
    assert conflicts(owner) == []


def test_the_sink_purges_what_is_past_retention_and_keeps_the_rest(owner, processor, target):
    order_id = str(uuid.uuid4())
    processor.process([Message(change("N-1", order_id), 10)])
    edit_here(owner, order_id, status="shipped", notes="w")
    processor.process([Message(store_edit(order_id, 2, 1, status="cancelled", notes="s"), 11)])
    with owner.cursor() as cur:
        cur.execute(
            f"UPDATE {CONFLICT_TABLE} SET decided_at = now() - interval '91 days' "
            "WHERE field = 'status'"
        )
    assert target.purge_conflicts(90) == 1
    assert [row["field"] for row in conflicts(owner)] == ["notes"]


@pytest.mark.parametrize("role", [APP, READER])
def test_the_app_and_the_reader_may_read_the_log_but_not_change_it(owner, role):
    conn = psycopg2.connect(database_url(WAREHOUSE, role.name, "warehouse_test"))
    try:
        with conn.cursor() as cur:
            cur.execute(f"SELECT count(*) FROM {CONFLICT_TABLE}")
            with pytest.raises(psycopg2.errors.InsufficientPrivilege):
                cur.execute(f"DELETE FROM {CONFLICT_TABLE}")
    finally:
        conn.close()
