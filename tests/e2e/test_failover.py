"""Cluster failover under write load: kill -9 a broker, a Connect worker, a sink replica.

The broker is the one coordinating the Connect workers' group, whose death also moves the group.

Each stays down while both APIs keep writing and `make status` must name it DEGRADED; then it
is brought back. At the end every acknowledged write is on both sides, reconcile finds nothing
and the versions stand still (no loop).
"""

import time

import psycopg2.extras
import pytest
from confluent_kafka import Consumer, TopicPartition

from bench.failover import connect_coordinator, kill
from ordersync import topology
from ordersync.sync.mapping import SIDES, TABLES, topic
from stack.cli import start_component
from stack.components import all_components
from stack.probes import wait_until
from stack.secrets import kafka_client
from stack.topology import connect_name, sink_name
from tests.support.db import connect
from tests.support.load import WriteLoad, lost_writes
from tests.support.processes import connector_status, reconcile, run_module
from tests.support.sync import settled

pytestmark = pytest.mark.cluster

COMPONENTS = {c.name: c for c in all_components()}


@pytest.fixture(scope="module")
def cluster(stack):
    """The running stack, which must be the three-broker one with sink replicas."""
    if not topology.CLUSTER or topology.SINK_REPLICAS < 2:
        pytest.fail("needs STACK_BROKERS=3 and SINK_REPLICAS=2 (`make test` starts such a stack)")
    return topology


def degraded(name: str):
    """`make status` while the component is down: non-zero, naming it DEGRADED."""
    result = run_module("stack", "status", timeout=120)
    return result.returncode == 1 and f"DEGRADED: {name} down" in result.stdout and result


def worker_running(connector: str) -> str:
    """The Connect worker (its supervised name) that runs the connector's task."""
    worker = connector_status(connector)["tasks"][0]["worker_id"]
    port = int(worker.rsplit(":", 1)[1])
    return connect_name(topology.CONNECT_PORTS.index(port) + 1)


def outage(name: str, load: WriteLoad) -> None:
    """Kill one component, see it reported while writes go on, then bring it back."""
    before = len(load.acked.created)
    kill(name)
    wait_until(lambda: degraded(name), 120, f"make status to report {name} degraded")
    wait_until(lambda: len(load.acked.created) > before + 20, 120, f"writes while {name} is down")
    start_component(COMPONENTS[name])
    wait_until(lambda: run_module("stack", "status").returncode == 0, 180, f"healthy after {name}")


def rows(side: str) -> dict:
    """Map order id to (notes, version) on one side."""
    conn = connect(side)
    with conn.cursor(cursor_factory=psycopg2.extras.DictCursor) as cur:
        cur.execute(f"SELECT id::text, notes, version FROM {TABLES[side]}")
        result = {r[0]: (r[1], r[2]) for r in cur.fetchall()}
    conn.close()
    return result


def change_ends() -> int:
    """How many change events both order topics hold, over all partitions."""
    consumer = Consumer(kafka_client() | {"group.id": "t-ends"})
    try:
        return sum(
            consumer.get_watermark_offsets(TopicPartition(topic(side), p), timeout=10)[1]
            for side in SIDES
            for p in range(topology.TOPIC_PARTITIONS)
        )
    finally:
        consumer.close()


def still_for(seconds: float) -> bool:
    """Watch the change topics for a while: nothing new may appear once the load stopped."""
    start, deadline = change_ends(), time.monotonic() + seconds
    while time.monotonic() < deadline:
        if change_ends() != start:
            return False
    return True


def test_a_broker_a_worker_and_a_replica_fail_under_write_load(apis, cluster):
    victims = [
        connect_coordinator(),
        worker_running("store-source"),
        sink_name("store", "warehouse", 1),
    ]
    with WriteLoad(limit_seconds=480) as load:
        wait_until(lambda: len(load.acked.created) > 30, 60, "the load to start")
        for name in victims:
            outage(name, load)
        wait_until(lambda: len(load.acked.created) > 30, 60, "more writes at the end")
    wait_until(lambda: reconcile().returncode == 0, 240, "both databases to agree")
    settled()
    store, warehouse = rows("store"), rows("warehouse")
    notes = {
        side: {i: row[0] for i, row in found.items()}
        for side, found in (("store", store), ("warehouse", warehouse))
    }
    missing, stale = lost_writes(load.acked, notes["store"], notes["warehouse"])
    assert missing == []
    assert stale == []
    assert len(load.acked.created) > 100
    assert still_for(5)  # no loop: nothing is written back and forth once the writers stop
    assert rows("store") == store and rows("warehouse") == warehouse
