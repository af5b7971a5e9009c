"""The sink's poll loop: take a batch, apply it until it goes through, store how far it got.

Each step is a small part: Positions (what is held, in flight and done), Retry (backoff with
fetching paused), Rebalance (the consumer's callbacks), Recorder and Lag (metrics and logs),
Health (what /healthz says). The decisions (parse, apply, isolate, dead-letter) are the
Processor's; the merge under it is pure (merge.py).
"""

import logging
import signal
from concurrent.futures import ThreadPoolExecutor

from confluent_kafka import Consumer, Producer

from connectors.sink.config import SinkConfig
from connectors.sink.deadletters import DeadLetters
from connectors.sink.health import Health
from connectors.sink.parking import ParkingLot
from connectors.sink.positions import Positions
from connectors.sink.processor import Processor, parse_ahead
from connectors.sink.rebalance import Rebalance
from connectors.sink.recording import Lag, Recorder
from connectors.sink.retention import Retention
from connectors.sink.retry import Retry
from connectors.sink.target import Target
from connectors.sink.transport import consumer_settings, delivered, ensure_topics

log = logging.getLogger("sink")


class Sink:
    """Consumes one side's change topic and applies it to the other side's database."""

    def __init__(self, config: SinkConfig, consumer=None, producer=None, target=None, health=None):
        self.config, self.running = config, True
        self.health = health or Health()
        self.target = target or Target(
            config.dsn, config.source, config.target, config.origin, config.lock_timeout_ms
        )
        self.consumer = consumer or Consumer(consumer_settings(config))
        producer = producer or Producer(config.kafka | {"enable.idempotence": True})
        self.dead_letters = DeadLetters(producer, config.dead_letter_topic)
        self.processor = self.make_processor(shared=target is None)
        self.positions = Positions(cap=self.processor.parked_offsets)
        self.rebalance = Rebalance(self.consumer, self.positions, self.processor, self.target)
        self.retry = Retry(
            self.consumer, self.positions, self.health, self.target, lambda: self.running
        )
        self.recorder = Recorder(config.source, config.target, self.health)
        self.lag = Lag(self.consumer, config.topic, self.positions.done)
        self.retention = Retention(
            self.target, config.conflict_retention_days, config.conflict_purge_seconds
        )
        # the next batch is parsed in this thread while the database applies the current one
        self.parser = ThreadPoolExecutor(1, thread_name_prefix="parse-ahead")
        self.parsing = None  # the future of what the parser makes of the held messages

    def make_processor(self, shared: bool) -> Processor:
        """The batch decisions; replicas share what they park through the target database."""
        config = self.config
        lot = ParkingLot(self.target, config.group_id, 3 * config.park_seconds) if shared else None
        return Processor(
            config.source, config.target, self.target, self.dead_letters, config.park_seconds, lot
        )

    def stop(self, *_):
        """Ask the loop to finish its current batch and exit."""
        self.running = False

    def run(self) -> None:
        """Poll until stopped; each batch is retried until it is fully accounted for."""
        ensure_topics(self.config)
        self.consumer.subscribe(
            [self.config.topic, self.config.replay_topic],
            on_assign=self.rebalance.assigned,
            on_revoke=self.rebalance.revoked,
            on_lost=self.rebalance.lost,
        )
        try:
            while self.running:
                self.step()
        finally:
            self.close()

    def step(self) -> None:
        """Take a batch, look ahead at the next one, apply this one, publish the lag."""
        batch = self.next_batch()
        parsed = self.parsing.result() if self.parsing else None
        self.parsing = None
        self.health.polled()
        if batch or self.processor.parked:
            self.positions.start(batch)  # before looking ahead: a revoke there shrinks it
            self.look_ahead()
            self.handle(parsed)
        self.lag.observe()
        self.retention.purge()

    def next_batch(self) -> list:
        """Block for the first message only, then take what is already fetched, up to a batch.

        A plain consume(n, timeout) would hold every event until the batch fills or the timeout
        passes; this keeps latency at one event's worth under light load and batches under heavy.
        """
        batch = self.positions.take_held()
        if not batch:
            # `is None`, never truthiness: a Kafka tombstone's message has a length of 0
            first = self.consumer.poll(self.config.poll_timeout)
            if first is None:
                return []
            batch = [first, *self.consumer.consume(self.config.batch_size - 1, 0)]
        return [message for message in batch if delivered(message)]

    def look_ahead(self) -> None:
        """Hold what is already fetched as the next batch, and start parsing it meanwhile."""
        ahead = self.consumer.consume(self.config.batch_size, 0)
        if ahead:
            self.positions.hold(ahead)
            fields = self.target.checks
            if fields is not None:  # None until the target told which fields it syncs
                self.parsing = self.parser.submit(parse_ahead, self.config.source, ahead, fields)

    def handle(self, parsed: dict | None = None) -> None:
        """Apply the batch in flight until it goes through, then record it and store offsets."""
        try:
            report = self.retry(lambda: self.processor.process(self.positions.in_flight, parsed))
        except Exception:
            if self.running:
                raise  # not a failure we know how to retry: crash, and the batch is read again
            log.warning("stopping with a batch not applied; it is read again at the next start")
            return
        self.health.recovered()
        self.recorder.batch(report, self.target.fields, len(self.processor.parked))
        self.store_offsets()
        self.dead_letters.forget()

    def store_offsets(self) -> None:
        """Store how far each partition is done, never past a parked change (at-least-once)."""
        self.positions.finish()
        offsets = self.positions.committable()
        if offsets:
            self.consumer.store_offsets(offsets=offsets)

    def close(self) -> None:
        """Commit stored offsets, confirm dead letters, drop an ephemeral origin, disconnect."""
        self.parser.shutdown(cancel_futures=True)
        self.consumer.close()
        self.dead_letters.producer.flush(10)
        if self.config.ephemeral:
            self.target.drop_origin()
        self.target.close()


def install_signal_handlers(sink: Sink) -> None:
    """SIGTERM and SIGINT only set the stop flag; the loop finishes its batch."""
    signal.signal(signal.SIGTERM, sink.stop)
    signal.signal(signal.SIGINT, sink.stop)
