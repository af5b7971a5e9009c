"""The sink's Kafka plumbing: its consumer's settings, its topics, and naming what it reads."""

import logging

from confluent_kafka import KafkaError, KafkaException
from confluent_kafka.admin import AdminClient, NewTopic

from connectors.sink.config import SinkConfig
from ordersync.kafka.access import topic_settings

log = logging.getLogger("sink")

# a sink may not create topics where Kafka authorizes (the launcher makes them): it waits instead
NOT_MINE = {
    KafkaError.TOPIC_ALREADY_EXISTS,
    KafkaError.TOPIC_AUTHORIZATION_FAILED,
    KafkaError.CLUSTER_AUTHORIZATION_FAILED,
}


def ensure_topics(config: SinkConfig) -> None:
    """Create the topics this sink reads and writes if missing and allowed, so it need not wait."""
    admin = AdminClient(config.kafka)
    wanted = [config.topic, config.replay_topic, config.dead_letter_topic]
    existing = admin.list_topics(timeout=30).topics
    new = [
        NewTopic(
            name,
            config.partitions,
            replication_factor=config.replication_factor,
            config=topic_settings(name),
        )
        for name in wanted
        if name not in existing
    ]
    for name, future in admin.create_topics(new).items() if new else []:
        try:
            future.result()
        except KafkaException as error:  # a concurrent creator won the race: that is fine
            if error.args[0].code() not in NOT_MINE:
                raise
            if error.args[0].code() != KafkaError.TOPIC_ALREADY_EXISTS:
                log.warning("topic %s is missing and not ours to create: waiting for it", name)


def consumer_settings(config: SinkConfig) -> dict:
    """librdkafka settings of the sink's consumer."""
    return {
        **config.kafka,
        "group.id": config.group_id,
        "auto.offset.reset": "earliest",
        # offsets are stored only after the database commit (at-least-once)
        "enable.auto.offset.store": False,
        "enable.auto.commit": True,
        "auto.commit.interval.ms": 1000,
        # the broker answers a fetch as soon as one event is there (fetch.min.bytes 1): a long
        # wait adds no latency, a short one makes the idle broker answer empty fetches (at 500 ms,
        # two a second per sink: half a percent of a core in Kafka at rest).
        # (librdkafka keeps one fetch in flight per broker: after a retry's pause, a refetch may
        # wait out the one in flight, seconds at most, and only after a database failure)
        "fetch.wait.max.ms": 5000,
        # bound the prefetch queue (64 MB by default) so memory stays flat in a backlog
        "queued.max.messages.kbytes": 8192,
        # when that bound is reached, fetch again soon after it frees up: the default (1 s)
        # left the sink idle for most of each second of a backlog
        "fetch.queue.backoff.ms": 10,
        # replicas of one group: a joining or leaving one moves only the partitions it must
        "partition.assignment.strategy": "cooperative-sticky",
        "session.timeout.ms": config.session_timeout_ms,
        # a heartbeat a tenth of the session (librdkafka counts the session from the last one
        # that succeeded): a group coordinator's death then leaves the replicas most of their
        # session to find the new one, and they keep their partitions
        "heartbeat.interval.ms": max(1000, config.session_timeout_ms // 10),
    }


def delivered(message) -> bool:
    """Tell whether a polled message carries a change; log a consumer error event instead."""
    if message.error() is None:
        return True
    log.warning("kafka: %s", message.error())
    return False


def position(message) -> str:
    """Name a message's place in Kafka: topic[partition]@offset."""
    return f"{message.topic()}[{message.partition()}]@{message.offset()}"
