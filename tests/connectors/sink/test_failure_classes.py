"""Each failure class met on the real database: what escapes for a retry, what is dead-lettered."""

import uuid

import psycopg2
import pytest

from connectors.sink.deadletters import DeadLetters
from connectors.sink.failures import Failure, classify
from connectors.sink.processor import Processor
from connectors.sink.target import Target
from ordersync.db.roles import OWNER, SINK
from ordersync.db.rollout import NoSchema, read
from ordersync.sync.mapping import STORE, WAREHOUSE
from stack.secrets import database_url
from tests.support import fakes
from tests.support.db import connect
from tests.support.fakes import batch, change

TABLE = "warehouse_order"


@pytest.fixture
def sink(owner, producer):
    """A processor writing as the sink's role, with a short lock timeout."""
    dsn = database_url(WAREHOUSE, SINK.name, "warehouse_test")
    target = Target(dsn, STORE, WAREHOUSE, f"cdc_test_{uuid.uuid4().hex[:8]}", lock_timeout_ms=200)
    yield Processor(STORE, WAREHOUSE, target, DeadLetters(producer, "store.dlq"))
    target.drop_origin()
    target.close()


def numbers(owner) -> dict:
    """Order id to number on the warehouse test database."""
    with owner.cursor() as cur:
        cur.execute(f"SELECT id::text AS id, order_number FROM {TABLE}")
        return {row["id"]: row["order_number"] for row in cur.fetchall()}


def failure_of(sink, messages) -> Failure:
    """Process a batch that must fail; return how its failure is classified."""
    with pytest.raises(psycopg2.Error) as raised:
        sink.process(messages)
    sink.target.reset()
    return classify(raised.value)


def test_a_lock_timeout_is_retried_not_dead_lettered(sink, owner, producer):
    order = str(uuid.uuid4())
    sink.process(batch(change("L1", order)))
    holder = connect(WAREHOUSE, "warehouse_test", OWNER.name)
    holder.autocommit = False
    with holder.cursor() as cur:
        cur.execute(f"SELECT 1 FROM {TABLE} WHERE id = %s FOR UPDATE", (order,))
    assert failure_of(sink, batch(change("L2", order, 2))) is Failure.TRANSIENT
    holder.rollback()
    holder.close()
    sink.process(batch(change("L2", order, 2)))
    assert numbers(owner) == {order: "L2"} and producer.stored == []


@pytest.mark.parametrize(
    ("broken", "fixed"),
    [
        (f"REVOKE UPDATE ON {TABLE} FROM {SINK.name}", f"GRANT UPDATE ON {TABLE} TO {SINK.name}"),
        (
            f"ALTER TABLE {TABLE} RENAME COLUMN notes TO notes_moved",
            f"ALTER TABLE {TABLE} RENAME COLUMN notes_moved TO notes",
        ),
    ],
    ids=["revoked-grant", "renamed-column"],
)
def test_schema_and_privilege_failures_pause_until_fixed(sink, owner, producer, broken, fixed):
    sink.target.ensure_connected()
    with owner.cursor() as cur:
        cur.execute(broken)
    try:
        assert failure_of(sink, batch(change("P1"))) is Failure.SCHEMA
    finally:
        with owner.cursor() as cur:
            cur.execute(fixed)
    sink.process(batch(change("P1")))
    assert list(numbers(owner).values()) == ["P1"] and producer.stored == []


def test_a_number_swap_in_one_batch_commits_whole(sink, owner, producer):
    a, b = str(uuid.uuid4()), str(uuid.uuid4())
    sink.process(batch(change("S1", a), change("S2", b)))
    sink.process(batch(change("STMP", a, 2), change("S1", b, 2), change("S2", a, 3)))
    assert numbers(owner) == {a: "S2", b: "S1"} and producer.stored == []


def test_a_clashing_number_dead_letters_that_event_alone_once_parked_long_enough(
    sink, owner, producer
):
    sink.park_seconds = 0
    sink.process(batch(change("C1")))
    report = sink.process(batch(change("C2"), change("C1"), change("C3")))
    assert sorted(numbers(owner).values()) == ["C1", "C2", "C3"]
    assert report.dead_letters == ["rejected-by-database"]
    [(_, _, record)] = producer.stored
    assert record["offset"] == 1 and "order_number_live" in record["error"]
    assert sink.parked == {}


def test_a_swap_split_across_batches_waits_parked_for_its_partner(sink, owner, producer):
    a, b = str(uuid.uuid4()), str(uuid.uuid4())
    sink.process(batch(change("X1", a), change("X2", b)))
    # one statement swapped the numbers on the source; the batches split the pair
    first = sink.process([fakes.Message(change("X2", a, 2), 10)])
    assert first.outcomes == [] and list(sink.parked) == [("store.public.store_order", 0, 10)]
    assert sink.parked_offsets() == {("store.public.store_order", 0): 10}
    second = sink.process([fakes.Message(change("X1", b, 2), 11)])
    assert numbers(owner) == {a: "X2", b: "X1"}
    assert sink.parked == {} and len(second.outcomes) == 2 and producer.stored == []


def test_a_missing_or_broken_declaration_in_the_target_is_a_schema_failure():
    # no event is to blame: the batch waits (and is retried slowly), nothing is dead-lettered
    assert classify(NoSchema("sync_schema is empty: run the migrations")) is Failure.SCHEMA


class OneRow:
    """A cursor whose query returns one given row."""

    def __init__(self, row):
        self.row = row

    def execute(self, sql):
        pass

    def fetchone(self):
        return self.row


@pytest.mark.parametrize(
    "row", [(2, "not json"), (2, [{"name": "Bad Name"}]), (0, []), (2, {"fields": 1})]
)
def test_a_malformed_schema_row_reads_as_no_schema(row):
    with pytest.raises(NoSchema, match="malformed"):
        read(OneRow(row))
