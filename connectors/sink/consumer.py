"""The sink's poll loop: consume a batch, apply it in one transaction, then store the offsets."""

import json
import logging
import os
import signal
import time
from collections import Counter, defaultdict
from dataclasses import dataclass

from confluent_kafka import Consumer, KafkaError, Producer
from confluent_kafka.admin import AdminClient, NewTopic
from tenacity import retry, retry_if_exception_type, stop_after_delay, wait_exponential

from connectors.sink import eventlog, metrics
from connectors.sink.events import PoisonEvent, parse
from connectors.sink.merge import plan_batch
from connectors.sink.target import CONNECTION_ERRORS, DB_ERRORS, Target, origin_name
from ordersync.mapping import topic

log = logging.getLogger("sink")


@dataclass(frozen=True)
class SinkConfig:
    """Where a sink reads from and writes to, and how it batches."""

    source: str
    target: str
    dsn: str
    bootstrap_servers: str = "127.0.0.1:9092"
    batch_size: int = 2000
    poll_timeout: float = 0.5
    group_id: str = ""  # the direction's own group unless set (replay, benchmarks)
    topic: str = ""  # the source side's change topic unless set (benchmarks)

    def __post_init__(self):
        if not self.group_id:
            object.__setattr__(self, "group_id", f"sink-{self.source}-to-{self.target}")
        if not self.topic:
            object.__setattr__(self, "topic", topic(self.source))

    @classmethod
    def from_env(cls, source: str, target: str) -> "SinkConfig":
        """Read the sink's settings from SINK_* environment variables."""
        return cls(
            source=source,
            target=target,
            dsn=os.environ["SINK_DATABASE_URL"],
            bootstrap_servers=os.environ.get("SINK_BOOTSTRAP_SERVERS", "127.0.0.1:9092"),
            batch_size=int(os.environ.get("SINK_BATCH_SIZE", 2000)),
            group_id=os.environ.get("SINK_GROUP_ID", ""),
            topic=os.environ.get("SINK_TOPIC", ""),
        )

    @property
    def ephemeral(self) -> bool:
        """A replay or benchmark group, whose replication origin is dropped when it stops."""
        return self.group_id != f"sink-{self.source}-to-{self.target}"

    @property
    def dead_letter_topic(self) -> str:
        """Where events that cannot be applied go."""
        return f"{self.topic}.dlq"


def ensure_topics(config: SinkConfig) -> None:
    """Create the source and dead-letter topics if missing, so subscribing never waits on them."""
    admin = AdminClient({"bootstrap.servers": config.bootstrap_servers})
    wanted = [config.topic, config.dead_letter_topic]
    existing = admin.list_topics(timeout=30).topics
    new = [
        NewTopic(name, num_partitions=1, replication_factor=1)
        for name in wanted
        if name not in existing
    ]
    for future in admin.create_topics(new).values() if new else []:
        try:
            future.result()
        except Exception as error:  # a concurrent creator won the race: that is fine
            if error.args[0].code() != KafkaError.TOPIC_ALREADY_EXISTS:
                raise


def stop_when_stopping(retry_state) -> bool:
    """Give up retrying once the sink was asked to stop."""
    return not retry_state.args[0].running


class Sink:
    """Consumes one side's change topic and applies it to the other side's database."""

    def __init__(self, config: SinkConfig):
        self.config = config
        self.running = True
        self.lag_observed = 0.0
        self.target = Target(config.dsn, config.source, config.target, origin_name(config.group_id))
        self.consumer = Consumer(
            {
                "bootstrap.servers": config.bootstrap_servers,
                "group.id": config.group_id,
                "auto.offset.reset": "earliest",
                # offsets are stored only after the database commit (at-least-once)
                "enable.auto.offset.store": False,
                "enable.auto.commit": True,
                "auto.commit.interval.ms": 1000,
                "fetch.wait.max.ms": 50,
                # bound the prefetch queue (64 MB by default) so memory stays flat in a backlog
                "queued.max.messages.kbytes": 8192,
            }
        )
        self.dead_letters = Producer(
            {"bootstrap.servers": config.bootstrap_servers, "enable.idempotence": True}
        )

    def stop(self, *_):
        """Ask the loop to finish its current batch and exit."""
        self.running = False

    def run(self) -> None:
        """Poll until stopped, then commit and close the consumer."""
        ensure_topics(self.config)
        self.connect()
        self.consumer.subscribe([self.config.topic])
        try:
            while self.running:
                messages = self.next_batch()
                metrics.LAST_POLL.set_to_current_time()
                messages = [m for m in messages if not self.transport_error(m)]
                if messages:
                    self.handle(messages)
                self.observe_lag()
        finally:
            self.consumer.close()
            if self.config.ephemeral:
                self.target.drop_origin()
            self.target.close()

    def next_batch(self) -> list:
        """Block for the first message only, then take what is already fetched, up to a batch.

        A plain consume(n, timeout) would hold every event until the batch fills or the timeout
        passes; this keeps latency at one event's worth under light load and batches under heavy.
        """
        first = self.consumer.poll(self.config.poll_timeout)
        if first is None:
            return []
        return [first, *self.consumer.consume(self.config.batch_size - 1, 0)]

    def observe_lag(self) -> None:
        """Publish how far behind the topic end each partition is (at most once a second)."""
        now = time.monotonic()
        if now - self.lag_observed < 1.0:
            return
        self.lag_observed = now
        for partition in self.consumer.position(self.consumer.assignment()):
            _, high = self.consumer.get_watermark_offsets(partition, cached=True)
            if partition.offset >= 0 and high >= 0:
                metrics.CONSUMER_LAG.labels(str(partition.partition)).set(high - partition.offset)

    def transport_error(self, message) -> bool:
        """Log a consumer error event; it carries no change to apply."""
        if message.error() is None:
            return False
        log.warning("kafka: %s", message.error())
        return True

    @retry(
        retry=retry_if_exception_type(CONNECTION_ERRORS),
        wait=wait_exponential(0.1, max=5),
        stop=stop_after_delay(3600) | stop_when_stopping,
        reraise=True,
        before_sleep=lambda state: log.warning(
            "database unavailable, retrying: %s", state.outcome.exception()
        ),
    )
    def connect(self) -> None:
        """Connect to the target database, retrying while it is down."""
        self.target.connect()

    def handle(self, messages: list) -> None:
        """Apply one batch, dead-letter what cannot be applied, then store the offsets."""
        metrics.BATCH_SIZE.observe(len(messages))
        events = []
        for message in messages:
            try:
                event = parse(self.config.source, message.value())
            except PoisonEvent as error:
                self.dead_letter([message], "unparseable", error)
                continue
            if event is None:
                metrics.EVENTS.labels("skipped", "kafka-tombstone").inc()
                continue
            events.append((message, event))
        self.apply_with_retry(events)
        self.dead_letters.flush(30)
        for message in messages:
            self.consumer.store_offsets(message)

    def apply_with_retry(self, events: list) -> None:
        """Apply events, reconnecting and retrying the whole batch while the database is down."""
        while True:
            try:
                return self.apply_isolating_poison(events)
            except CONNECTION_ERRORS as error:
                log.warning("lost the database mid-batch, reconnecting: %s", error)
                self.connect()

    def apply_isolating_poison(self, events: list) -> None:
        """Apply the batch in one transaction; on a data error, apply order by order."""
        try:
            self.apply(events)
            return
        except CONNECTION_ERRORS:
            raise
        except DB_ERRORS as error:
            self.target.rollback()
            log.info("batch failed (%s); applying order by order to isolate it", error)
        by_order = defaultdict(list)
        for message, event in events:
            by_order[event.state.id].append((message, event))
        for group in by_order.values():
            try:
                self.apply(group)
            except CONNECTION_ERRORS:
                raise
            except DB_ERRORS as error:
                self.target.rollback()
                self.dead_letter([m for m, _ in group], "rejected-by-database", error)

    def apply(self, events: list) -> None:
        """Merge the events into the locked current rows and write the changed ones."""
        if not events:
            return
        started = time.monotonic()
        cur = self.target.begin()
        states = [event.state for _, event in events]
        current = self.target.fetch(cur, sorted({s.id for s in states}))
        writes, outcomes = plan_batch(states, current, self.config.source, self.config.target)
        if writes:
            self.target.write(cur, list(writes.values()))
        self.target.commit()
        metrics.APPLY_SECONDS.observe(time.monotonic() - started)
        self.record(events, outcomes)
        log.info(
            "applied batch",
            extra={
                "events": len(events),
                "rows_written": len(writes),
                "ms": round((time.monotonic() - started) * 1000, 1),
            },
        )

    def record(self, events: list, outcomes: list) -> None:
        """Count outcomes (once per batch and reason) and observe end-to-end lag."""
        now = time.time()
        metrics.LAST_APPLIED.set(now)
        counts = Counter((o.write, o.reason) for o in outcomes)
        for (write, reason), n in counts.items():
            metrics.EVENTS.labels("applied" if write else "skipped", reason).inc(n)
        for name, n in Counter(c for o in outcomes for c in o.conflicts).items():
            metrics.CONFLICTS.labels(name).inc(n)
        for (_, event), outcome in zip(events, outcomes, strict=True):
            if outcome.write and event.source_ts_ms:
                metrics.LAG_SECONDS.observe(max(0.0, now - event.source_ts_ms / 1000))
        eventlog.write(events, outcomes, self.config.source, self.config.target)

    def dead_letter(self, messages: list, reason: str, error: Exception) -> None:
        """Send messages that cannot be applied to the dead-letter topic with the error."""
        for message in messages:
            value = message.value()
            record = {
                "reason": reason,
                "error": str(error).strip(),
                "topic": message.topic(),
                "partition": message.partition(),
                "offset": message.offset(),
                "event": value.decode("utf-8", "replace") if value is not None else None,
            }
            self.dead_letters.produce(
                self.config.dead_letter_topic,
                key=message.key(),
                value=json.dumps(record).encode(),
            )
            metrics.DEAD_LETTERS.labels(reason).inc()
            metrics.EVENTS.labels("dead-lettered", reason).inc()
            log.warning(
                "dead-lettered %s[%s]@%s: %s",
                message.topic(),
                message.partition(),
                message.offset(),
                record["error"],
            )


def install_signal_handlers(sink: Sink) -> None:
    """SIGTERM and SIGINT only set the stop flag; the loop finishes its batch."""
    signal.signal(signal.SIGTERM, sink.stop)
    signal.signal(signal.SIGINT, sink.stop)
