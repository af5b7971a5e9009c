"""Partitioned topics and sink replicas: every partition owned, cross-partition swaps converge.

Runs on a stack with at least 3 partitions and 2 sink replicas per direction (`make test` brings
up a cluster stack for the `cluster` tests).
"""

import uuid

import pytest
import requests
from confluent_kafka import Consumer, ConsumerGroupState, TopicPartition
from confluent_kafka.admin import AdminClient, ConfigResource

from bench.client import order_body
from ordersync import topology
from ordersync.sync.mapping import SIDES, TABLES, dead_letter_topic, other, topic
from stack.probes import wait_until
from stack.secrets import kafka_client
from stack.topology import sink_name
from tests.support.db import connect
from tests.support.kafka import decoded, row_of
from tests.support.processes import frozen, reconcile
from tests.support.sync import arrives, settled

pytestmark = pytest.mark.cluster


@pytest.fixture(scope="module")
def scaled(stack):
    """The running stack, which must be partitioned and replicated for these tests to mean much."""
    if topology.TOPIC_PARTITIONS < 3 or topology.SINK_REPLICAS < 2:
        pytest.fail(
            "needs STACK_TOPIC_PARTITIONS >= 3 and SINK_REPLICAS >= 2 "
            "(`make test` runs this module on a cluster stack)"
        )
    return topology


def admin() -> AdminClient:
    return AdminClient(kafka_client())


def dead_letters(target: str) -> float:
    """Dead letters counted by every replica of the sink writing into `target`."""
    total = 0.0
    for replica in range(topology.SINK_REPLICAS):
        port = topology.sink_metrics_port(target, replica)
        text = requests.get(f"http://{topology.HOST}:{port}/metrics", timeout=5).text
        total += sum(
            float(line.split()[-1])
            for line in text.splitlines()
            if line.startswith("sink_dead_letters_total{")
        )
    return total


def partitions_of(source: str, ids: set[str]) -> dict[str, int]:
    """The partition each order's events travel on, read from the change topic."""
    consumer = Consumer(kafka_client() | {"group.id": f"t-{uuid.uuid4()}"})
    try:
        found, name = {}, topic(source)
        for part in range(topology.TOPIC_PARTITIONS):
            low, high = consumer.get_watermark_offsets(TopicPartition(name, part), timeout=10)
            consumer.assign([TopicPartition(name, part, low)])
            position = low
            while position < high:
                message = consumer.poll(10)
                assert message is not None, "topic read timed out"
                if message.error():
                    continue
                position = message.offset() + 1
                order_id = row_of(decoded(message.value())).get("id")
                if order_id in ids:
                    found[order_id] = part
        return found
    finally:
        consumer.close()


def test_every_topic_is_partitioned_and_replicated(scaled):
    client = admin()
    metadata = client.list_topics(timeout=10)
    for side in SIDES:
        for name in (topic(side), dead_letter_topic(side)):
            assert len(metadata.topics[name].partitions) == topology.TOPIC_PARTITIONS, name
    # every topic, Connect's internal ones and the consumer offsets included
    internal = {"connect-configs", "connect-offsets", "connect-status", "__consumer_offsets"}
    assert internal <= set(metadata.topics)
    for name, found in metadata.topics.items():
        replicas = {len(p.replicas) for p in found.partitions.values()}
        assert replicas == {topology.REPLICATION_FACTOR}, name
    resource = ConfigResource(ConfigResource.Type.TOPIC, "connect-offsets")
    [future] = client.describe_configs([resource]).values()
    configs = future.result(10)
    assert configs["min.insync.replicas"].value == str(topology.MIN_INSYNC_REPLICAS)


@pytest.mark.parametrize("source", SIDES)
def test_every_partition_is_owned_by_one_of_the_replicas(scaled, source):
    group, client = f"sink-{source}-to-{other(source)}", admin()

    def members():
        [future] = client.describe_consumer_groups([group]).values()
        described = future.result(10)
        if described.state != ConsumerGroupState.STABLE:
            return None
        return described.members

    found = wait_until(members, 60, f"{group} stable")
    assert len(found) == topology.SINK_REPLICAS
    owned = [
        tp.partition
        for m in found
        for tp in m.assignment.topic_partitions
        if tp.topic == topic(source)  # (the replay topic's partitions are shared out alike)
    ]
    assert sorted(owned) == list(range(topology.TOPIC_PARTITIONS))
    assert all(m.assignment.topic_partitions for m in found)  # no replica sits idle


@pytest.mark.parametrize("source", SIDES)
def test_swaps_and_reuses_across_partitions_converge_without_dead_letters(apis, scaled, source):
    target, tag = other(source), uuid.uuid4().hex[:6]
    pairs = [
        [apis[source].create(order_body(source, order_number=f"XS{tag}-{i}-{j}")) for j in "ab"]
        for i in range(8)
    ]
    for pair in pairs:
        for order in pair:
            arrives(target, order["id"], order_number=order["order_number"])
    reused = apis[source].create(order_body(source, order_number=f"XR{tag}"))
    arrives(target, reused["id"])
    dead = dead_letters(target)
    # one replica stands still while the other meets each half alone, and parks it
    with frozen(sink_name(source, target, 1)):
        conn = connect(source)
        with conn.cursor() as cur:
            for a, b in pairs:  # a swap in one statement: neither half is valid alone
                cur.execute(
                    f"UPDATE {TABLES[source]} SET order_number = CASE id WHEN %s THEN %s "
                    "ELSE %s END WHERE id IN (%s, %s)",
                    (a["id"], b["order_number"], a["order_number"], a["id"], b["id"]),
                )
        conn.close()
        apis[source].delete(reused["id"])  # the number is freed, then taken by a new order
        successor = apis[source].create(order_body(source, order_number=f"XR{tag}"))
    for a, b in pairs:
        arrives(target, a["id"], order_number=b["order_number"])
        arrives(target, b["id"], order_number=a["order_number"])
    arrives(target, reused["id"], deleted=True)
    arrives(target, successor["id"], order_number=f"XR{tag}", deleted=False)
    settled()
    assert dead_letters(target) == dead
    assert reconcile().returncode == 0
    ids = {o["id"] for pair in pairs for o in pair}
    where = partitions_of(source, ids)
    assert any(where[a["id"]] != where[b["id"]] for a, b in pairs)  # the pairs did split
