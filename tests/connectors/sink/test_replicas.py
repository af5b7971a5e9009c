"""Two replicas of one sink on the real database: cross-partition swaps and reuses converge."""

import json
import uuid

import pytest

from connectors.sink.deadletters import DeadLetters
from connectors.sink.parking import ParkingLot
from connectors.sink.processor import Processor
from connectors.sink.target import Target
from ordersync.db.roles import PARKED_TABLE, SINK
from ordersync.sync.mapping import STORE, WAREHOUSE
from stack.secrets import database_url
from tests.support.fakes import TOPIC, OnPartition, change

TABLE = "warehouse_order"


def deleted(order_number: str, order_id: str, version: int) -> bytes:
    """A store-side delete (a tombstone row) of an order."""
    event = json.loads(change(order_number, order_id, version))
    event["after"]["deleted"] = True
    return json.dumps(event).encode()


@pytest.fixture
def replicas(owner, producer):
    """Two processors of one group, each with its own session and replication origin."""
    group, made = f"test-{uuid.uuid4().hex[:8]}", []
    for replica in range(2):
        dsn = database_url(WAREHOUSE, SINK.name, "warehouse_test")
        target = Target(dsn, STORE, WAREHOUSE, f"cdc_{group}_r{replica}".replace("-", "_"))
        lot = ParkingLot(target, group, forget_after_seconds=60)
        dead = DeadLetters(producer, "store.dlq")
        made.append(Processor(STORE, WAREHOUSE, target, dead, park_seconds=30, lot=lot))
    yield made
    for processor in made:
        processor.target.drop_origin()
        processor.target.close()


def numbers(owner) -> dict:
    """Order id to (number, deleted) on the warehouse test database."""
    with owner.cursor() as cur:
        cur.execute(f"SELECT id::text AS id, order_number, deleted FROM {TABLE}")
        return {row["id"]: (row["order_number"], row["deleted"]) for row in cur.fetchall()}


def parked_rows(owner) -> int:
    """How many changes sit in the shared parking lot."""
    with owner.cursor() as cur:
        cur.execute(f"SELECT count(*) AS n FROM {PARKED_TABLE}")
        return cur.fetchone()["n"]


def test_a_swap_split_across_replicas_commits_as_a_whole(replicas, owner, producer):
    first, second = replicas
    a, b = str(uuid.uuid4()), str(uuid.uuid4())
    first.process([OnPartition(change("R1", a), 0, 0), OnPartition(change("R2", b), 0, 1)])
    # one statement swapped the numbers; each half went to its own partition and replica
    report = first.process([OnPartition(change("R2", a, 2), 1, 0)])
    assert report.outcomes == [] and parked_rows(owner) == 1
    report = second.process([OnPartition(change("R1", b, 2), 1, 1)])
    assert numbers(owner) == {a: ("R2", False), b: ("R1", False)}
    assert report.partners_applied == 1 and second.parked == {}
    # the owner of the other half finds it done: a duplicate, and its offset may move on
    report = first.process([])
    assert [o.reason for _, o in report.outcomes] == ["duplicate"]
    assert first.parked == {} and parked_rows(owner) == 0 and producer.stored == []


def test_a_number_freed_on_one_replica_is_reused_on_the_other(replicas, owner, producer):
    first, second = replicas
    a, b = str(uuid.uuid4()), str(uuid.uuid4())
    first.process([OnPartition(change("U1", a), 0, 0)])
    # the reuse arrives before the delete that freed its number
    second.process([OnPartition(change("U1", b), 0, 1)])
    assert list(second.parked) == [(TOPIC, 1, 0)] and b not in numbers(owner)
    first.process([OnPartition(deleted("U1", a, 2), 1, 0)])
    second.process([])
    assert numbers(owner) == {a: ("U1", True), b: ("U1", False)}
    assert second.parked == {} and parked_rows(owner) == 0 and producer.stored == []


def test_a_three_way_cycle_over_two_replicas_converges(replicas, owner, producer):
    first, second = replicas
    a, b, c = (str(uuid.uuid4()) for _ in range(3))
    first.process([OnPartition(change("C1", a), 0, 0), OnPartition(change("C2", b), 0, 2)])
    second.process([OnPartition(change("C3", c), 0, 1)])
    # a → C2, b → C3, c → C1 in one statement: partitions 0 and 2 on the first replica
    first.process([OnPartition(change("C2", a, 2), 1, 0)])
    second.process([OnPartition(change("C1", c, 2), 1, 1)])
    first.process([OnPartition(change("C3", b, 2), 1, 2)])
    second.process([])
    assert numbers(owner) == {a: ("C2", False), b: ("C3", False), c: ("C1", False)}
    assert first.parked == {} and second.parked == {} and producer.stored == []


def test_a_revoked_partition_takes_its_parked_changes_out_of_the_lot(replicas, owner):
    first, _ = replicas
    a, b = str(uuid.uuid4()), str(uuid.uuid4())
    first.process([OnPartition(change("V1", a), 0, 0)])
    first.process([OnPartition(change("V1", b), 0, 1)])
    assert parked_rows(owner) == 1
    first.drop_partitions({(TOPIC, 1)})
    assert first.parked == {} and parked_rows(owner) == 0


def test_a_real_clash_is_still_dead_lettered_after_the_wait(replicas, owner, producer):
    first, second = replicas
    first.park_seconds = 0
    first.process([OnPartition(change("D1"), 0, 0)])
    report = first.process([OnPartition(change("D1"), 0, 1)])
    assert report.dead_letters == ["rejected-by-database"] and parked_rows(owner) == 0
    assert len(producer.stored) == 1 and second.parked == {}
