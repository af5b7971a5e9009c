"""Kafka of the running stack: reading topics, watching for events, consumer lag."""

import json
import time
import uuid

from confluent_kafka import Consumer, TopicPartition

from ordersync.kafka.access import ADMIN
from ordersync.sync.mapping import SIDES, TABLES, topic
from stack.report import group_lag
from stack.secrets import kafka_client


def writer(name: str) -> dict:
    """Settings of a producer allowed to write a topic: a change topic takes its Debezium only."""
    side = next((side for side in SIDES if topic(side) == name), None)
    return kafka_client(f"debezium-{side}" if side else ADMIN)


def decoded(value: bytes | None):
    """A message value as JSON; None for an empty or non-JSON one (the fuzz test leaves some)."""
    try:
        return json.loads(value) if value else None
    except ValueError:
        return None


def read_messages(name: str, since: int = 0) -> list:
    """Read the messages currently in a single-partition topic from an offset on (raw)."""
    return list(iter_messages(name, since))


def iter_messages(name: str, since: int = 0):
    """Yield the messages currently in a single-partition topic from an offset on, one by one.

    A dev stack that ran `make bench` holds millions of events: a scan must not keep them all.
    """
    consumer = Consumer(
        kafka_client()
        | {
            "group.id": f"test-reader-{uuid.uuid4()}",
            "enable.auto.commit": False,
        }
    )
    try:
        low, high = consumer.get_watermark_offsets(TopicPartition(name, 0), timeout=10)
        low = max(low, since)
        if high <= low:
            return
        consumer.assign([TopicPartition(name, 0, low)])
        last = low - 1
        while last < high - 1:
            message = consumer.poll(10)
            assert message is not None, "topic read timed out"
            if message.error():
                continue
            last = message.offset()
            yield message
    finally:
        consumer.close()


def read_topic(name: str) -> list:
    """Every message value currently in a single-partition topic, JSON-decoded (None if not)."""
    return [decoded(m.value()) for m in read_messages(name)]


def topic_events(side: str, order_id=None) -> list[dict]:
    """Read every event currently in a side's change topic, optionally only one order's."""
    events = (decoded(m.value()) for m in iter_messages(topic(side)))
    if order_id is None:
        return list(events)
    return [e for e in events if row_of(e).get("id") == str(order_id)]


def row_of(event) -> dict:
    """The row a change event carries (after, else before), or {} for anything else."""
    if not isinstance(event, dict):
        return {}
    row = event.get("after") or event.get("before")
    return row if isinstance(row, dict) else {}


def sink_caught_up(source: str, group: str | None = None) -> bool:
    """Tell whether the sink reading `source` has committed every event in its topic."""
    consumer = Consumer(kafka_client() | {"group.id": "test-lag-probe"})
    try:
        return all(lag == 0 for lag in group_lag(source, consumer, group).values())
    finally:
        consumer.close()


def quiet_for(seconds: float, order_id) -> list[dict]:
    """Watch both change topics for a while; return any event about the order that appears."""
    consumer = Consumer(
        kafka_client()
        | {
            "group.id": f"test-watch-{uuid.uuid4()}",
            "enable.auto.commit": False,
        }
    )
    try:
        partitions = []
        for side in TABLES:
            partition = TopicPartition(topic(side), 0)
            _, high = consumer.get_watermark_offsets(partition, timeout=10)
            partitions.append(TopicPartition(topic(side), 0, high))
        consumer.assign(partitions)
        seen, deadline = [], time.monotonic() + seconds
        while (left := deadline - time.monotonic()) > 0:
            message = consumer.poll(left)  # blocks on Kafka until an event or the window ends
            if message is None or message.error() or message.value() is None:
                continue
            event = decoded(message.value())
            if row_of(event).get("id") == str(order_id):
                seen.append(event)
        return seen
    finally:
        consumer.close()


def end_offset(name: str) -> int:
    """The end offset of a single-partition topic."""
    consumer = Consumer(kafka_client() | {"group.id": "test-end"})
    try:
        return consumer.get_watermark_offsets(TopicPartition(name, 0), timeout=10)[1]
    finally:
        consumer.close()
