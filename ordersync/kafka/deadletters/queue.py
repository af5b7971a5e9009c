"""Dead-letter topics in Kafka: read what is pending, replay it, commit that it was replayed."""

import logging
import time
from dataclasses import dataclass, field

from confluent_kafka import OFFSET_INVALID, Consumer, KafkaError, KafkaException, Producer
from confluent_kafka import TopicPartition as TP
from confluent_kafka.admin import AdminClient

from ordersync.kafka.deadletters.records import (
    DeadLetter,
    distinct,
    from_message,
    next_offsets,
    pending,
    replay_group,
    replay_header,
    replay_topic_of,
    start_offset,
)

# librdkafka's log lines and ours about Kafka (librdkafka repeats a failure on every retry)
log = logging.getLogger("dlq.kafka")


class DeadLetterError(RuntimeError):
    """Kafka could not be read, or a replayed event was not confirmed delivered."""


@dataclass(frozen=True)
class Partition:
    """One DLQ partition: its log start and end, and the replay group's committed offset."""

    number: int
    low: int
    high: int
    committed: int

    @property
    def pending(self) -> int:
        """Dead letters since the last replay."""
        return pending(self.low, self.high, self.committed)

    @property
    def start(self) -> int:
        """First offset not yet replayed."""
        return start_offset(self.low, self.committed)


@dataclass
class ReplayResult:
    """What a replay did: the letters produced again, those it could not, and the commit."""

    replayed: list[DeadLetter] = field(default_factory=list)
    unreplayable: list[DeadLetter] = field(default_factory=list)
    committed: dict[int, int] = field(default_factory=dict)


class DeadLetterQueue:
    """One dead-letter topic and its replay group."""

    def __init__(self, kafka: dict, topic: str, timeout: float = 10.0):
        """`kafka`: librdkafka's address and login settings (ordersync.kafka.client)."""
        self.kafka, self.topic, self.timeout = kafka, topic, timeout
        self.bootstrap_servers = kafka["bootstrap.servers"]
        self.consumer = Consumer(
            kafka
            | {
                "group.id": replay_group(topic),
                # offsets move only when a replay was confirmed delivered
                "enable.auto.commit": False,
                "enable.partition.eof": True,
                "socket.connection.setup.timeout.ms": max(1000, int(timeout * 1000)),
                # a down broker is retried a few times a call, not every 100 ms
                "reconnect.backoff.ms": 1000,
            },
            logger=log,
        )

    def __enter__(self):
        return self

    def __exit__(self, *_):
        self.consumer.close()

    def partitions(self) -> list[Partition]:
        """Every partition of the topic with its offsets; none when the topic does not exist."""
        try:
            metadata = self.consumer.list_topics(self.topic, timeout=self.timeout)
            found = metadata.topics[self.topic]
            if found.error is not None:
                if found.error.code() == KafkaError.UNKNOWN_TOPIC_OR_PART:
                    return []
                raise KafkaException(found.error)
            tps = [TP(self.topic, p) for p in sorted(found.partitions)]
            committed = self.consumer.committed(tps, timeout=self.timeout) if tps else []
            return [self.partition(tp) for tp in committed]
        except KafkaException as error:
            raise DeadLetterError(f"Kafka at {self.bootstrap_servers}: {error}") from error

    def partition(self, committed: TP) -> Partition:
        """Offsets of one partition."""
        low, high = self.consumer.get_watermark_offsets(committed, timeout=self.timeout)
        offset = committed.offset if committed.offset != OFFSET_INVALID else -1
        return Partition(committed.partition, low, high, offset)

    def pending_count(self) -> int:
        """Dead letters since the last replay, over all partitions."""
        return sum(p.pending for p in self.partitions())

    def total_count(self) -> int:
        """Dead letters still in the topic, replayed or not."""
        return sum(p.high - p.low for p in self.partitions())

    def read(self, everything: bool = False, limit: int | None = None) -> list[DeadLetter]:
        """The dead letters since the last replay (or all kept), oldest first; the last `limit`."""
        ranges = {}
        for p in self.partitions():
            start = p.low if everything else p.start
            if limit is not None:
                start = max(start, p.high - limit)
            if start < p.high:
                ranges[p.number] = (start, p.high)
        letters = self.fetch(ranges)
        return letters[-limit:] if limit is not None else letters

    def fetch(self, ranges: dict[int, tuple[int, int]]) -> list[DeadLetter]:
        """Read [start, end) of each partition; fail when Kafka delivers nothing for `timeout`."""
        if not ranges:
            return []
        self.consumer.assign([TP(self.topic, p, start) for p, (start, _) in ranges.items()])
        left, letters = set(ranges), []
        deadline = time.monotonic() + self.timeout
        while left:
            message = self.consumer.poll(0.2)
            if message is not None and message.error() is None:
                deadline = time.monotonic() + self.timeout  # progress: Kafka is delivering
            elif time.monotonic() > deadline:
                raise DeadLetterError(f"timed out reading {self.topic} partitions {sorted(left)}")
            if message is not None:
                letters += self.take(message, ranges, left)
        self.consumer.unassign()
        return sorted(letters, key=lambda letter: (letter.dlq_partition, letter.dlq_offset))

    def take(self, message, ranges: dict, left: set) -> list[DeadLetter]:
        """The dead letter in a polled message, if in range; strike partitions read to the end."""
        error = message.error()
        if error is not None and error.code() != KafkaError._PARTITION_EOF:
            if error.fatal():
                raise DeadLetterError(f"reading {self.topic}: {error}")
            log.warning("reading %s: %s", self.topic, error)  # transient: librdkafka retries
            return []
        partition = message.partition()
        end = ranges[partition][1]
        if error is not None or message.offset() >= end - 1:
            left.discard(partition)
        if error is not None or message.offset() >= end:
            return []
        _, timestamp = message.timestamp()
        position = (self.topic, partition, message.offset())
        return [from_message(position, message.key(), message.value(), timestamp)]

    def replay(self) -> ReplayResult:
        """Produce every pending dead letter's original event again, then mark them replayed."""
        letters = self.read()
        unique = distinct(letters)
        result = ReplayResult(
            replayed=[x for x in unique if x.replayable],
            unreplayable=[x for x in unique if not x.replayable],
        )
        self.produce(result.replayed)
        result.committed = next_offsets(letters)
        self.commit(result.committed)
        return result

    def discard(self) -> dict[int, int]:
        """Mark every pending dead letter handled without replaying it (looked at, judged noise)."""
        offsets = next_offsets(self.read())
        self.commit(offsets)
        return offsets

    def trim(self) -> dict[int, int]:
        """Delete the dead letters already replayed or discarded; return the new log starts."""
        # what lies before the replay group's offset was replayed or discarded
        done = {p.number: p.committed for p in self.partitions() if p.committed > p.low}
        if not done:
            return {}
        admin = AdminClient(self.kafka)
        futures = admin.delete_records(
            [TP(self.topic, p, offset) for p, offset in done.items()],
            request_timeout=self.timeout,
        )
        try:
            for future in futures.values():
                future.result()
        except KafkaException as error:
            raise DeadLetterError(f"could not trim {self.topic}: {error}") from error
        return done

    def produce(self, letters: list[DeadLetter]) -> None:
        """Produce the original key and value to the original topic; wait for every delivery."""
        if not letters:
            return
        producer = Producer(
            self.kafka
            | {
                "enable.idempotence": True,
                "message.timeout.ms": max(1000, int(self.timeout * 1000)),
            },
            logger=log,
        )
        failures, delivered = [], []

        def on_delivery(error, message):
            (failures if error is not None else delivered).append(error or message)

        for letter in letters:
            send(producer, replay_topic_of(self.topic), letter, on_delivery)
        undelivered = producer.flush(self.timeout + 5)
        if failures or undelivered or len(delivered) != len(letters):
            errors = f", errors: {'; '.join(map(str, failures))}" if failures else ""
            raise DeadLetterError(
                f"replay not confirmed: {len(delivered)} of {len(letters)} delivered{errors}; "
                "nothing was marked replayed"
            )

    def commit(self, offsets: dict[int, int]) -> None:
        """Commit the replay group's offsets synchronously."""
        if not offsets:
            return
        tps = [TP(self.topic, p, offset) for p, offset in offsets.items()]
        try:
            for tp in self.consumer.commit(offsets=tps, asynchronous=False):
                if tp.error is not None:
                    raise KafkaException(tp.error)
        except KafkaException as error:
            raise DeadLetterError(
                f"replayed, but could not commit {replay_group(self.topic)}: {error}"
            ) from error


def send(producer: Producer, topic: str, letter: DeadLetter, on_delivery) -> None:
    """Queue one original event for the replay topic, its original partition (-1: Kafka chooses).

    Never the change topic itself: only Debezium may write there. The sink reads both alike.
    """
    args = {
        "value": letter.original,
        "key": letter.key,
        # the original partition keeps an order's events in one log, as Debezium put them
        "partition": -1 if letter.partition is None else letter.partition,
        "headers": [replay_header(letter)],
        "on_delivery": on_delivery,
    }
    try:
        producer.produce(topic, **args)
    except BufferError:  # the local queue is full: let deliveries drain, then queue it
        producer.flush()
        producer.produce(topic, **args)
