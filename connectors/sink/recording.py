"""What the loop tells the outside: each batch's outcomes as metrics and log lines, and the lag."""

import logging
import time
from collections import Counter
from collections.abc import Callable

from connectors.sink import eventlog, metrics
from connectors.sink.health import Health
from connectors.sink.processor import BatchReport

log = logging.getLogger("sink")


class Recorder:
    """Counts outcomes (once per batch and reason), observes lag, logs the events."""

    def __init__(self, source: str, target: str, health: Health):
        self.source, self.target, self.health = source, target, health

    def batch(self, report: BatchReport, fields, parked: int) -> None:
        """Record one batch that went through, the fields the target syncs, and what is parked."""
        now = time.time()
        metrics.BATCH_SIZE.observe(report.messages)
        metrics.APPLY_SECONDS.observe(report.seconds)
        metrics.PARKED.set(parked)
        if report.outcomes:
            metrics.LAST_APPLIED.set(now)
        if fields is not None:
            self.health.schema_version = fields.version
        self.count(report)
        self.left_alone("target-lacks", report.unsynced)
        self.left_alone("event-lacks", report.absent)
        lags = [
            max(0.0, now - event.source_ts_ms / 1000)
            for (_, event), outcome in report.outcomes
            if outcome.write and event.source_ts_ms
        ]
        metrics.observe_many(metrics.LAG_SECONDS, lags)
        events = [pair for pair, _ in report.outcomes]
        eventlog.write(events, [o for _, o in report.outcomes], self.source, self.target)
        self.snapshots(report, now)
        self.log(report)

    @staticmethod
    def count(report: BatchReport) -> None:
        """Count events by outcome and reason, dead letters and the conflicts recorded."""
        counts = Counter((o.write, o.reason) for _, o in report.outcomes)
        for (write, reason), n in counts.items():
            metrics.EVENTS.labels("applied" if write else "skipped", reason).inc(n)
        if report.kafka_tombstones:
            metrics.EVENTS.labels("skipped", "kafka-tombstone").inc(report.kafka_tombstones)
        for reason, n in Counter(report.dead_letters).items():
            metrics.DEAD_LETTERS.labels(reason).inc(n)
            metrics.EVENTS.labels("dead-lettered", reason).inc(n)
        for (name, rule), n in report.conflicts.items():
            metrics.CONFLICTS.labels(name, rule).inc(n)

    def left_alone(self, why: str, tally: Counter) -> None:
        """Count fields of events that were not applied, and remember them for /healthz."""
        for name, n in tally.items():
            metrics.FIELDS_NOT_APPLIED.labels(*self.health.left_alone_now(name, why)).inc(n)

    def snapshots(self, report: BatchReport, now: float) -> None:
        """Count snapshot reads, and say when a new snapshot of the source begins."""
        if report.snapshot_reads:
            metrics.SNAPSHOT_READS.inc(report.snapshot_reads)
        if report.snapshots_begun:
            metrics.SNAPSHOTS.inc(report.snapshots_begun)
            metrics.LAST_SNAPSHOT.set(now)
            log.warning("applying a new snapshot of %s (all its rows, read again)", self.source)

    @staticmethod
    def log(report: BatchReport) -> None:
        """Log what other replicas' changes this batch carried, and what it dead-lettered."""
        if report.partners_applied:
            log.info("applied %d change(s) other replicas parked", report.partners_applied)
        if report.dead_letters:
            log.warning(
                "dead-lettered %d message(s): %s",
                len(report.dead_letters),
                dict(Counter(report.dead_letters)),
            )


class Lag:
    """Publishes how many messages of each partition are not applied yet, at most once a second.

    Counted from how far the partition is done (what a restart would resume from), not from the
    consumer's position, which is already past the batch in flight and the one held.
    """

    def __init__(self, consumer, topic: str, done: Callable[[], dict]):
        self.consumer, self.topic, self.done = consumer, topic, done
        self.observed = 0.0

    def observe(self) -> None:
        """Set the lag gauge of each assigned partition of the change topic, if a second passed."""
        now = time.monotonic()
        if now - self.observed < 1.0:
            return
        self.observed = now
        done = self.done()
        for partition in self.consumer.position(self.consumer.assignment()):
            _, high = self.consumer.get_watermark_offsets(partition, cached=True)
            offset = done.get((partition.topic, partition.partition), partition.offset)
            if partition.topic == self.topic and offset >= 0 and high >= 0:
                metrics.CONSUMER_LAG.labels(str(partition.partition)).set(high - offset)
