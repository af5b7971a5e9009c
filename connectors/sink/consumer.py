"""The sink's poll loop: consume a batch, process it until it goes through, store its offsets.

The decisions (parse, apply, isolate, dead-letter) live in processor.py; this module only moves
messages between Kafka and the processor, retries, and reports.
"""

import logging
import os
import signal
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import psycopg2
from confluent_kafka import Consumer, KafkaError, KafkaException, Producer, TopicPartition
from confluent_kafka.admin import AdminClient, NewTopic
from tenacity import Retrying, retry_if_exception, wait_random_exponential

from connectors.sink import eventlog, metrics
from connectors.sink.deadletters import DeadLetters
from connectors.sink.failures import Failure, SchemaChanged, classify
from connectors.sink.parking import ParkingLot
from connectors.sink.processor import BatchReport, Processor, parse_ahead
from connectors.sink.target import Target, origin_name
from ordersync.environment import PARTITIONS, REPLICATION, BadSetting, seconds, setting, whole
from ordersync.kafka_access import sink_group, topic_settings
from ordersync.kafka_client import client_settings
from ordersync.mapping import topic

log = logging.getLogger("sink")


@dataclass(frozen=True)
class SinkConfig:
    """Where a sink reads from and writes to, and how it batches."""

    source: str
    target: str
    dsn: str
    # librdkafka's address and login settings (ordersync.kafka_client)
    kafka: dict = field(default_factory=lambda: {"bootstrap.servers": "127.0.0.1:9092"})
    batch_size: int = 2000
    poll_timeout: float = 0.5
    group_id: str = ""  # the direction's own group unless set (replay, benchmarks)
    topic: str = ""  # the source side's change topic unless set (benchmarks)
    lock_timeout_ms: int = 10_000
    park_seconds: float = 10.0  # how long a change refused for a number clash waits for its partner
    replica: int = 0  # which of the group's replicas this is: it names its replication origin
    partitions: int = 1  # of the topics this sink creates when they are missing
    replication_factor: int = 1
    # how soon a replica killed outright loses its partitions (the launcher sets 10 s for replicas)
    session_timeout_ms: int = 45_000

    def __post_init__(self):
        if not self.group_id:
            object.__setattr__(self, "group_id", sink_group(self.source))
        if not self.topic:
            object.__setattr__(self, "topic", topic(self.source))

    @classmethod
    def from_env(cls, source: str, target: str) -> "SinkConfig":
        """Read the sink's settings from SINK_* environment variables."""
        env = os.environ
        if not env.get("SINK_DATABASE_URL"):
            raise BadSetting("SINK_DATABASE_URL must be set (the target database, as the sink)")
        return cls(
            source=source,
            target=target,
            dsn=env["SINK_DATABASE_URL"],
            kafka=client_settings(env, address="SINK_BOOTSTRAP_SERVERS"),
            batch_size=setting(env, "SINK_BATCH_SIZE", whole(1, 100_000), 2000),
            group_id=env.get("SINK_GROUP_ID", ""),
            topic=env.get("SINK_TOPIC", ""),
            lock_timeout_ms=setting(env, "SINK_LOCK_TIMEOUT_MS", whole(1, 3_600_000), 10_000),
            park_seconds=setting(env, "SINK_PARK_SECONDS", seconds(0, 3600), 10.0),
            replica=setting(env, "SINK_REPLICA", whole(0, 999), 0),
            partitions=setting(env, "SINK_TOPIC_PARTITIONS", whole(*PARTITIONS), 1),
            replication_factor=setting(
                env, "SINK_TOPIC_REPLICATION_FACTOR", whole(*REPLICATION), 1
            ),
            # librdkafka's own bounds (the broker's group limits may be narrower)
            session_timeout_ms=setting(env, "SINK_SESSION_TIMEOUT_MS", whole(1, 3_600_000), 45_000),
        )

    @property
    def ephemeral(self) -> bool:
        """A replay or benchmark group, whose replication origin is dropped when it stops."""
        return self.group_id != sink_group(self.source)

    @property
    def origin(self) -> str:
        """This replica's replication origin: two sessions can never share one."""
        return origin_name(self.group_id) + (f"_r{self.replica}" if self.replica else "")

    @property
    def dead_letter_topic(self) -> str:
        """Where events that cannot be applied go."""
        return f"{self.topic}.dlq"

    @property
    def replay_topic(self) -> str:
        """Where the dead-letter tool replays this direction's dead letters (read like changes)."""
        return f"{self.topic}.replay"


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
        # two a second per sink: 0.5 % of a core in Kafka at rest; bench/README.md, eighth round).
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
        "heartbeat.interval.ms": max(1000, config.session_timeout_ms // 4),
    }


def wait_after(error: BaseException):
    """How long to wait after a failed attempt: not at all when a migration moved the target on."""
    if isinstance(error, SchemaChanged):
        return lambda _state: 0  # the new field set is already read: merge the batch again now
    return wait_for(classify(error))


def wait_for(failure: Failure):
    """Backoff with jitter: quick for transient failures, slow for schema and privileges."""
    if failure is Failure.SCHEMA:
        return wait_random_exponential(multiplier=1, max=30)
    return wait_random_exponential(multiplier=0.1, max=5)


class Sink:
    """Consumes one side's change topic and applies it to the other side's database."""

    def __init__(self, config: SinkConfig, consumer=None, producer=None, target=None):
        self.config = config
        self.running = True
        self.paused = []
        self.held = []  # messages a poll returned while the loop was waiting to retry
        self.reached: dict[tuple[str, int], int] = {}  # next offset per partition, once applied
        self.lag_observed = 0.0
        real = target is None
        self.target = target or Target(
            config.dsn,
            config.source,
            config.target,
            config.origin,
            config.lock_timeout_ms,
        )
        self.consumer = consumer or Consumer(consumer_settings(config))
        producer = producer or Producer(config.kafka | {"enable.idempotence": True})
        self.dead_letters = DeadLetters(producer, config.dead_letter_topic)
        # replicas share what they park through the target database (fakes share nothing)
        lot = ParkingLot(self.target, config.group_id, 3 * config.park_seconds) if real else None
        self.processor = Processor(
            config.source, config.target, self.target, self.dead_letters, config.park_seconds, lot
        )
        self.in_flight: list = []  # the batch being applied: revoked partitions leave it
        # the next batch is parsed in this thread while the database applies the current one
        self.parser = ThreadPoolExecutor(1, thread_name_prefix="parse-ahead")
        self.parsing = None  # the future of what the parser makes of the held messages

    def stop(self, *_):
        """Ask the loop to finish its current batch and exit."""
        self.running = False

    def run(self) -> None:
        """Poll until stopped; each batch is retried until it is fully accounted for."""
        ensure_topics(self.config)
        self.consumer.subscribe(
            [self.config.topic, self.config.replay_topic],
            on_assign=self.assigned,
            on_revoke=self.revoked,
            on_lost=self.lost,
        )
        try:
            while self.running:
                batch = self.next_batch()
                parsed = self.parsing.result() if self.parsing else None
                self.parsing = None
                messages = [m for m in batch if m.error() is None or not self.transport_error(m)]
                metrics.polled()
                if messages or self.processor.parked:
                    self.in_flight = messages  # before looking ahead: a revoke may shrink it
                    self.look_ahead()
                    self.handle(messages, parsed)
                self.observe_lag()
        finally:
            self.close()

    def look_ahead(self) -> None:
        """Hold what is already fetched as the next batch, and start parsing it meanwhile."""
        ahead = self.consumer.consume(self.config.batch_size, 0)
        if ahead:
            self.held = ahead
            fields = self.target.checks
            if fields is not None:  # None until the target told which fields it syncs
                self.parsing = self.parser.submit(parse_ahead, self.config.source, ahead, fields)

    def handle(self, messages: list, parsed: dict | None = None) -> None:
        """Process a batch until it goes through, then record it and store its offsets."""
        self.in_flight = messages  # the same list object each attempt: a revoke shrinks it
        try:
            report = self.retrying()(self.processor.process, messages, parsed)
        except Exception:
            if self.running:
                raise  # not a failure we know how to retry: crash, and the batch is read again
            log.warning("stopping with a batch not applied; it is read again at the next start")
            return
        finally:
            self.resume()
            self.in_flight = []
        metrics.clear_stuck()
        self.record(report)
        self.store_positions(messages)
        self.dead_letters.forget()

    def store_positions(self, messages: list) -> None:
        """Store how far each partition is done, never past a parked change (at-least-once)."""
        for message in messages:
            key = (message.topic(), message.partition())
            self.reached[key] = max(self.reached.get(key, 0), message.offset() + 1)
        offsets = self.positions(self.reached)
        if offsets:
            self.consumer.store_offsets(offsets=offsets)
        metrics.PARKED.set(len(self.processor.parked))

    def positions(self, partitions) -> list[TopicPartition]:
        """The offsets to commit for these partitions: how far they are done, capped by parking."""
        cap = self.processor.parked_offsets()
        return [
            TopicPartition(topic, part, min(offset, cap.get((topic, part), offset)))
            for (topic, part), offset in self.reached.items()
            if (topic, part) in partitions
        ]

    def assigned(self, _consumer, partitions: list) -> None:
        """Partitions this replica now owns (cooperative: only the new ones)."""
        log.info("assigned %s", sorted((p.topic, p.partition) for p in partitions))

    def revoked(self, _consumer, partitions: list) -> None:
        """Commit how far the partitions that move are done, then forget everything of theirs.

        Their held and parked messages are read again by the new owner from that offset; the
        merge makes any change applied twice a no-op.
        """
        gone = {(p.topic, p.partition) for p in partitions}
        offsets = self.positions(gone)
        if offsets:
            try:
                self.consumer.commit(offsets=offsets, asynchronous=False)
            except KafkaException as error:  # the new owner then starts a little earlier
                log.warning("could not commit revoked partitions: %s", error)
        self.forget(gone)
        log.info("revoked %s at %s", sorted(gone), [(o.partition, o.offset) for o in offsets])

    def lost(self, _consumer, partitions: list) -> None:
        """Partitions taken away without a chance to commit (this replica was too slow)."""
        gone = {(p.topic, p.partition) for p in partitions}
        log.warning("lost %s", sorted(gone))
        self.forget(gone)

    def forget(self, gone: set) -> None:
        """Drop held, in-flight, parked and progress state of partitions no longer ours."""

        def ours(message) -> bool:
            return (message.topic(), message.partition()) not in gone

        self.held = [m for m in self.held if ours(m)]
        self.in_flight[:] = [m for m in self.in_flight if ours(m)]
        for key in gone:
            self.reached.pop(key, None)
        try:
            self.processor.drop_partitions(gone)
        except psycopg2.Error as error:  # their rows in the parking lot age out on their own
            log.warning("could not clear parked changes of revoked partitions: %s", error)
            self.target.reset()

    def retrying(self) -> Retrying:
        """Retry a failing batch while running, backing off by failure class, polling meanwhile."""
        return Retrying(
            retry=retry_if_exception(lambda error: classify(error) is not Failure.DATA),
            wait=lambda state: wait_after(state.outcome.exception())(state),
            stop=lambda _state: not self.running,
            sleep=self.idle,
            before_sleep=self.report_failure,
            reraise=True,
        )

    def report_failure(self, state) -> None:
        """Log a failed attempt and publish why the sink is stuck."""
        error = state.outcome.exception()
        failure = classify(error)
        messages = state.args[0]
        where = self.position(messages[0]) if messages else "parked changes"
        metrics.report_stuck(where, failure.value, error, state.attempt_number)
        log.warning(
            "batch at %s failed (%s, attempt %d), retrying: %s",
            where,
            failure.value,
            state.attempt_number,
            error,
        )
        if isinstance(error, psycopg2.Error):
            self.target.reset()

    def idle(self, seconds: float) -> None:
        """Wait between attempts with the partitions paused, still polling to stay in the group."""
        if seconds <= 0:
            return
        self.paused = self.consumer.assignment()
        self.consumer.pause(self.paused)
        deadline = time.monotonic() + seconds
        while self.running and time.monotonic() < deadline:
            message = self.consumer.poll(min(0.5, max(0.0, deadline - time.monotonic())))
            if message is not None and not self.transport_error(message):
                self.held.append(message)  # fetched before the pause: keep it, in order
            metrics.polled()

    def resume(self) -> None:
        """Resume fetching after a retry paused it: everything assigned now.

        A partition lost and assigned again while paused comes back still paused.
        """
        if self.paused:
            self.consumer.resume(self.consumer.assignment())
            self.paused = []

    @staticmethod
    def position(message) -> str:
        """Name a message's place in Kafka: topic[partition]@offset."""
        return f"{message.topic()}[{message.partition()}]@{message.offset()}"

    def close(self) -> None:
        """Commit stored offsets, confirm dead letters, drop an ephemeral origin, disconnect."""
        self.parser.shutdown(cancel_futures=True)
        self.consumer.close()
        self.dead_letters.producer.flush(10)
        if self.config.ephemeral:
            self.target.drop_origin()
        self.target.close()

    def next_batch(self) -> list:
        """Block for the first message only, then take what is already fetched, up to a batch.

        A plain consume(n, timeout) would hold every event until the batch fills or the timeout
        passes; this keeps latency at one event's worth under light load and batches under heavy.
        """
        if self.held:
            held, self.held = self.held, []
            return held
        first = self.consumer.poll(self.config.poll_timeout)
        if first is None:
            return []
        return [first, *self.consumer.consume(self.config.batch_size - 1, 0)]

    def observe_lag(self) -> None:
        """Publish how many messages of each partition are not applied yet (at most once a second).

        Counted from how far the partition is done (what a restart would resume from), not from
        the consumer's position, which is already past the batch in flight and the one held.
        """
        now = time.monotonic()
        if now - self.lag_observed < 1.0:
            return
        self.lag_observed = now
        done = {(p.topic, p.partition): p.offset for p in self.positions(self.reached)}
        for partition in self.consumer.position(self.consumer.assignment()):
            _, high = self.consumer.get_watermark_offsets(partition, cached=True)
            offset = done.get((partition.topic, partition.partition), partition.offset)
            if partition.topic == self.config.topic and offset >= 0 and high >= 0:
                metrics.CONSUMER_LAG.labels(str(partition.partition)).set(high - offset)

    def transport_error(self, message) -> bool:
        """Log a consumer error event; it carries no change to apply."""
        if message.error() is None:
            return False
        log.warning("kafka: %s", message.error())
        return True

    def record(self, report: BatchReport) -> None:
        """Count outcomes (once per batch and reason), observe lag, log the events."""
        now = time.time()
        metrics.BATCH_SIZE.observe(report.messages)
        if report.outcomes:
            metrics.LAST_APPLIED.set(now)
        counts = Counter((o.write, o.reason) for _, o in report.outcomes)
        for (write, reason), n in counts.items():
            metrics.EVENTS.labels("applied" if write else "skipped", reason).inc(n)
        if report.kafka_tombstones:
            metrics.EVENTS.labels("skipped", "kafka-tombstone").inc(report.kafka_tombstones)
        for reason, n in Counter(report.dead_letters).items():
            metrics.DEAD_LETTERS.labels(reason).inc(n)
            metrics.EVENTS.labels("dead-lettered", reason).inc(n)
        for name, n in Counter(c for _, o in report.outcomes for c in o.conflicts).items():
            metrics.CONFLICTS.labels(name).inc(n)
        if self.target.fields is not None:
            metrics.SCHEMA_VERSION.set(self.target.fields.version)
        metrics.fields_left_alone("target-lacks", report.unsynced)
        metrics.fields_left_alone("event-lacks", report.absent)
        lags = [
            max(0.0, now - event.source_ts_ms / 1000)
            for (_, event), outcome in report.outcomes
            if outcome.write and event.source_ts_ms
        ]
        metrics.observe_many(metrics.LAG_SECONDS, lags)
        events = [pair for pair, _ in report.outcomes]
        eventlog.write(
            events, [o for _, o in report.outcomes], self.config.source, self.config.target
        )
        if report.snapshot_reads:
            metrics.SNAPSHOT_READS.inc(report.snapshot_reads)
        if report.snapshots_begun:
            metrics.SNAPSHOTS.inc(report.snapshots_begun)
            metrics.LAST_SNAPSHOT.set(now)
            log.warning(
                "applying a new snapshot of %s (all its rows, read again)", self.config.source
            )
        if report.partners_applied:
            log.info("applied %d change(s) other replicas parked", report.partners_applied)
        if report.dead_letters:
            log.warning(
                "dead-lettered %d message(s): %s",
                len(report.dead_letters),
                dict(Counter(report.dead_letters)),
            )


def install_signal_handlers(sink: Sink) -> None:
    """SIGTERM and SIGINT only set the stop flag; the loop finishes its batch."""
    signal.signal(signal.SIGTERM, sink.stop)
    signal.signal(signal.SIGINT, sink.stop)
