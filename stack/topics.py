"""Look at Kafka without Docker: topics with their ends and consumer lag, and a live tail."""

import json
import time
import uuid

from confluent_kafka import Consumer, ConsumerGroupTopicPartitions, TopicPartition
from confluent_kafka.admin import AdminClient

from stack.secrets import kafka_client


def admin() -> AdminClient:
    """An admin client of the stack's broker."""
    return AdminClient(kafka_client("operator"))


def probe() -> Consumer:
    """A consumer that only reads offsets, never commits."""
    return Consumer(
        kafka_client("operator") | {"group.id": "stack-topics", "enable.auto.commit": False}
    )


def end_offsets(consumer: Consumer, metadata) -> dict[tuple[str, int], int]:
    """The end offset of every partition of every (non-internal) topic."""
    ends = {}
    for name, topic in sorted(metadata.topics.items()):
        if name.startswith("__"):
            continue
        for part in sorted(topic.partitions):
            ends[(name, part)] = consumer.get_watermark_offsets(
                TopicPartition(name, part), timeout=10
            )[1]
    return ends


def group_offsets(client: AdminClient) -> dict[str, dict[tuple[str, int], int]]:
    """The committed offsets of every consumer group, by (topic, partition)."""
    groups = client.list_consumer_groups().result(timeout=10).valid
    out = {}
    for listing in sorted(groups, key=lambda g: g.group_id):
        request = [ConsumerGroupTopicPartitions(listing.group_id)]
        result = client.list_consumer_group_offsets(request)[listing.group_id].result(timeout=10)
        out[listing.group_id] = {
            (tp.topic, tp.partition): tp.offset for tp in result.topic_partitions if tp.offset >= 0
        }
    return out


def lines() -> list[str]:
    """Topics with partitions and end offsets, then consumer groups with their lag."""
    client, consumer = admin(), probe()
    try:
        ends = end_offsets(consumer, client.list_topics(timeout=10))
    finally:
        consumer.close()
    out = [f"{'topic':<48}{'partition':>10}{'end offset':>12}"]
    out += [f"{name:<48}{part:>10}{end:>12}" for (name, part), end in ends.items()]
    out.append("")
    out.append(f"{'consumer group':<40}{'topic[partition]':<44}{'committed':>10}{'lag':>8}")
    for group, offsets in group_offsets(client).items():
        for (name, part), offset in sorted(offsets.items()):
            lag = ends.get((name, part), offset) - offset
            out.append(f"{group:<40}{f'{name}[{part}]':<44}{offset:>10}{lag:>8}")
    return out


def pretty(message, order: str | None) -> str | None:
    """A message as indented JSON with its place, or None when filtered out by order id."""
    try:
        value = json.loads(message.value()) if message.value() is not None else None
    except ValueError:
        value = message.value().decode("utf-8", "replace")
    row = (value.get("after") or value.get("before")) if isinstance(value, dict) else None
    if order and not (isinstance(row, dict) and row.get("id") == order):
        return None
    when = time.strftime("%H:%M:%S", time.localtime(message.timestamp()[1] / 1000))
    header = f"--- {message.topic()}[{message.partition()}]@{message.offset()} {when}"
    return f"{header}\n{json.dumps(value, indent=2, ensure_ascii=False)}"


def tail(topic: str, last: int = 10, order: str | None = None, follow: bool = True) -> None:
    """Print the last messages of a topic (all of one order's with `order`), then follow it.

    Without `follow`, stop at the ends the topic had when the tail started.
    """
    consumer = Consumer(
        kafka_client("operator")
        | {"group.id": f"stack-tail-{uuid.uuid4().hex[:8]}", "enable.auto.commit": False}
    )
    try:
        parts = consumer.list_topics(topic, timeout=10).topics[topic].partitions
        starts, ends = [], {}
        for part in parts:
            low, high = consumer.get_watermark_offsets(TopicPartition(topic, part), timeout=10)
            starts.append(TopicPartition(topic, part, low if order else max(low, high - last)))
            ends[part] = high
        consumer.assign(starts)
        done = {tp.partition: tp.offset for tp in starts}
        while follow or any(done[p] < ends[p] for p in ends):
            message = consumer.poll(0.5)
            if message is None or message.error():
                continue
            done[message.partition()] = message.offset() + 1
            if (text := pretty(message, order)) is not None:
                print(text, flush=True)
    except KeyboardInterrupt:
        pass
    finally:
        consumer.close()
