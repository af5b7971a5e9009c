"""`python -m connectors.monitor`: the pipeline's health seen from outside, as Prometheus metrics.

Every MONITOR_INTERVAL_SECONDS: each sink group's lag, dead letters kept and not yet replayed,
Kafka partitions short of in-sync replicas, and orders that differ between the databases. What
monitoring/alerts.yml alerts on, beside the sinks' and the watchdog's own metrics. Read-only: it
logs in as Kafka's `operator` and as each database's reader role.
"""

import logging
import threading
import time

import psycopg2
from confluent_kafka import Consumer, TopicPartition
from prometheus_client import Gauge

from connectors import watching
from connectors.reconcile.chunks import compare_chunked
from ordersync import topology
from ordersync.environment import BadSetting, checked, seconds
from ordersync.kafka.access import OPERATOR_GROUPS, sink_group
from ordersync.kafka.client import client_settings
from ordersync.kafka.deadletters.queue import DeadLetterQueue
from ordersync.sync.mapping import SIDES, dead_letter_topic, topic

log = logging.getLogger("monitor")

GROUP_LAG = Gauge(
    "sync_consumer_group_lag", "Messages a sink group has not committed", ["group", "partition"]
)
DEAD_LETTERS_KEPT = Gauge(
    "sync_dead_letters_kept",
    "Dead letters in the topic (kept until replayed or discarded)",
    ["topic"],
)
DEAD_LETTERS_PENDING = Gauge(
    "sync_dead_letters_pending", "Dead letters written since the last replay", ["topic"]
)
UNDER_REPLICATED = Gauge(
    "kafka_under_replicated_partitions",
    "Partitions with fewer in-sync replicas than replicas (or no leader)",
    ["topic"],
)
DRIFT_SEEN = Gauge("sync_drift_orders_seen", "Orders that differed at the last comparison")
DRIFT = Gauge(
    "sync_drift_orders",
    "Orders that differed at the last two comparisons in a row (changes in flight excluded)",
)
PROBE_UP = Gauge("sync_monitor_probe_up", "1 when the probe's last run succeeded", ["probe"])
LAST_RUN = Gauge(
    "sync_monitor_last_success_timestamp_seconds", "When the probe last succeeded", ["probe"]
)

# a comparison hashes both order tables: once a minute is a small share of a core for 100k orders
INTERVAL = 60.0


def group_lag(kafka: dict, consumer: Consumer, source: str, group: str | None = None) -> dict:
    """Messages a consumer group (the sink's by default) has not committed yet, per partition."""
    name, group = topic(source), group or sink_group(source)
    metadata = consumer.list_topics(name, timeout=5).topics[name]
    partitions = [TopicPartition(name, p) for p in metadata.partitions]
    probe = Consumer(kafka | {"group.id": group})
    try:
        committed = probe.committed(partitions, timeout=5)
    finally:
        probe.close()
    lag = {}
    for tp in committed:
        low, high = consumer.get_watermark_offsets(tp, timeout=5)
        lag[tp.partition] = high - (tp.offset if tp.offset >= 0 else low)
    return lag


def under_replicated(consumer: Consumer) -> dict[str, int]:
    """Per topic the operator may see: partitions short of in-sync replicas or of a leader."""
    found = {}
    for name, meta in consumer.list_topics(timeout=5).topics.items():
        short = [
            p for p in meta.partitions.values() if p.leader < 0 or len(p.isrs) < len(p.replicas)
        ]
        found[name] = len(short)
    return found


def differing_ids(conns: dict) -> set[str]:
    """Ids of the orders missing on a side or differing in a synced field."""
    report = compare_chunked(conns).report
    ids = {s.id for states in report.missing.values() for s in states}
    return ids | {a.id for a, _, _ in report.differing}


class Monitor:
    """Runs each probe every interval; a failing probe says so and leaves the others running."""

    def __init__(self, kafka: dict, databases: dict[str, str], interval: float = INTERVAL):
        self.kafka, self.databases, self.interval = kafka, databases, interval
        self.stopping = threading.Event()
        # reads offsets only: the group is never joined, but librdkafka wants one named
        self.consumer = Consumer(kafka | {"group.id": f"{OPERATOR_GROUPS}monitor"})
        self.drifted: set[str] | None = None  # ids that differed at the previous comparison

    def probes(self) -> dict:
        """The probes by name; each sets its own gauges."""
        found = {"kafka": self.kafka_probe}
        if set(self.databases) == set(SIDES):
            found["drift"] = self.drift_probe
        return found

    def kafka_probe(self) -> None:
        """Sink groups' lag, dead letters and under-replicated partitions."""
        for source in SIDES:
            group = sink_group(source)
            for partition, lag in group_lag(self.kafka, self.consumer, source).items():
                GROUP_LAG.labels(group, str(partition)).set(lag)
            with DeadLetterQueue(self.kafka, dead_letter_topic(source), 5) as queue:
                partitions = queue.partitions()
            name = dead_letter_topic(source)
            DEAD_LETTERS_KEPT.labels(name).set(sum(p.high - p.low for p in partitions))
            DEAD_LETTERS_PENDING.labels(name).set(sum(p.pending for p in partitions))
        for name, count in under_replicated(self.consumer).items():
            UNDER_REPLICATED.labels(name).set(count)

    def drift_probe(self) -> None:
        """Orders that differ now, and those that differed the last time too."""
        conns = {
            side: psycopg2.connect(url, connect_timeout=5) for side, url in self.databases.items()
        }
        try:
            ids = differing_ids(conns)
        finally:
            for conn in conns.values():
                conn.close()
        DRIFT_SEEN.set(len(ids))
        DRIFT.set(len(ids & self.drifted) if self.drifted is not None else 0)
        self.drifted = ids

    def check_once(self) -> None:
        """Run every probe once."""
        for name, probe in self.probes().items():
            try:
                probe()
            except Exception as error:  # the next interval tries again; the gauge says it failed
                log.warning("%s probe failed: %s", name, str(error).strip()[:500])
                PROBE_UP.labels(name).set(0)
                continue
            PROBE_UP.labels(name).set(1)
            LAST_RUN.labels(name).set(time.time())

    def run(self) -> None:
        """Check until stopped."""
        while not self.stopping.is_set():
            self.check_once()
            self.stopping.wait(self.interval)
        self.consumer.close()


def main() -> None:
    """Run the monitor until SIGTERM/SIGINT."""
    watching.configure_logging()
    interval = checked("MONITOR_INTERVAL_SECONDS", seconds(1, 3600), INTERVAL)
    try:
        kafka = client_settings()
    except BadSetting as error:
        log.error("%s", error)
        raise SystemExit(1) from None
    monitor = Monitor(kafka, watching.database_urls("MONITOR"), interval)
    watching.serve("MONITOR", topology.MONITOR_METRICS_PORT, monitor)


if __name__ == "__main__":
    main()
