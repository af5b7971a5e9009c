"""What `make status` reports beyond processes: slots, lag, dead letters, freshness, drift."""

import time
from dataclasses import dataclass
from datetime import UTC

import psycopg2
import requests
from confluent_kafka import Consumer

from connectors import monitor
from connectors.reconcile.chunks import compare_chunked
from ordersync import topology as t
from ordersync.db import rollout
from ordersync.db.roles import READER, SNAPSHOT_TABLE
from ordersync.kafka.deadletters.queue import DeadLetterQueue
from ordersync.sync import sinkhealth
from ordersync.sync.mapping import LATEST, SIDES, dead_letter_topic, other, topic
from stack.components import brokers, connect_workers
from stack.secrets import database_url, kafka_client
from stack.topology import sink_name


@dataclass
class Check:
    """One line of the report: a name, a value and whether it is healthy."""

    name: str
    value: str
    healthy: bool = True
    warning: bool = False  # healthy, but an operator should look (new dead letters)

    @property
    def mark(self) -> str:
        """The line's mark: ok, WARN or BAD."""
        return "BAD" if not self.healthy else "WARN" if self.warning else "ok"


def slot_checks(max_retained_mb: float = 256) -> list[Check]:
    """Retained WAL of each replication slot (a stuck slot fills the disk)."""
    checks = []
    for side in SIDES:
        with psycopg2.connect(database_url(side, READER.name), connect_timeout=3) as conn:
            with conn.cursor() as cur:
                cur.execute(
                    "SELECT slot_name, active, pg_wal_lsn_diff(pg_current_wal_lsn(), restart_lsn),"
                    " wal_status FROM pg_replication_slots"
                )
                rows = cur.fetchall()
        conn.close()
        for slot, active, retained, wal_status in rows:
            mb = float(retained or 0) / 1e6
            state = "active" if active else "INACTIVE"
            lost = " LOST (invalidated: the watchdog drops it, a new snapshot follows)"
            checks.append(
                Check(
                    f"slot {side}/{slot}",
                    f"{mb:.1f} MB retained, {state}{lost if wal_status == 'lost' else ''}",
                    active and mb < max_retained_mb and wal_status != "lost",
                )
            )
    return checks


def snapshot_checks() -> list[Check]:
    """The snapshots each sink applied: the first is the initial load, later ones re-snapshots."""
    checks = []
    for target in SIDES:
        source = other(target)
        with psycopg2.connect(database_url(target, READER.name), connect_timeout=3) as conn:
            with conn.cursor() as cur:
                cur.execute(
                    f"SELECT first_seen, records FROM {SNAPSHOT_TABLE} WHERE source = %s"
                    " ORDER BY first_seen",
                    (source,),
                )
                runs = cur.fetchall()
        conn.close()
        checks.append(Check(f"snapshots of {source}", describe_snapshots(runs)))
    return checks


def describe_snapshots(runs: list[tuple]) -> str:
    """Say how many snapshots were applied, when the last began and how many rows it read."""
    if not runs:
        return "none applied yet"
    when, rows = runs[-1]
    stamp = when.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
    if len(runs) == 1:
        return f"1 applied, begun {stamp} ({rows} rows)"
    # the first is the initial load (or the first since this table exists): the rest re-snapshots
    return f"{len(runs)} applied; the last (a re-snapshot) began {stamp} ({rows} rows)"


def group_lag(source: str, consumer: Consumer, group: str | None = None) -> dict[int, int]:
    """Messages a consumer group (the sink's by default) has not committed yet, per partition."""
    return monitor.group_lag(kafka_client("operator"), consumer, source, group)


def kafka_checks() -> tuple[list[Check], bool]:
    """Consumer lag per partition and dead letters; also whether both sinks caught up."""
    consumer = Consumer(kafka_client("operator") | {"group.id": "stack-status"})
    checks, caught_up = [], True
    try:
        for source in SIDES:
            for partition, lag in group_lag(source, consumer).items():
                caught_up &= lag == 0
                checks.append(
                    Check(f"lag {topic(source)}[{partition}]", f"{lag} messages", lag < 10_000)
                )
    finally:
        consumer.close()
    return checks + dead_letter_checks(), caught_up


def dead_letter_checks() -> list[Check]:
    """Dead letters per direction since its last replay; new ones are a warning, not a failure."""
    checks = []
    for source in SIDES:
        with DeadLetterQueue(kafka_client("operator"), dead_letter_topic(source), 5) as queue:
            partitions = queue.partitions()
        new = sum(p.pending for p in partitions)
        kept = sum(p.high - p.low for p in partitions)
        note = " (`make dlq` lists them)" if new else ""
        checks.append(
            Check(
                f"dead letters {source}-to-{other(source)}",
                f"{new} since the last replay, {kept} kept{note}",
                warning=new > 0,
            )
        )
    return checks


def sink_replicas() -> list[tuple[str, int, str]]:
    """(target side, metrics port, label) of every sink replica."""
    return [
        (target, t.sink_metrics_port(target, r), target + (f" [replica {r}]" if r else ""))
        for target in t.SINK_METRICS_PORTS
        for r in range(t.SINK_REPLICAS)
    ]


def freshness_checks() -> list[Check]:
    """Seconds since each sink replica last applied a batch and last polled Kafka."""
    checks = []
    for _target, port, label in sink_replicas():
        try:
            text = requests.get(f"http://{t.HOST}:{port}/metrics", timeout=3).text
        except requests.RequestException as error:
            checks.append(Check(f"sink into {label}", f"unavailable: {error}", False))
            continue
        values = {
            line.split()[0]: float(line.split()[1])
            for line in text.splitlines()
            if line.startswith(("sink_last_applied", "sink_last_poll"))
        }
        applied = values.get("sink_last_applied_timestamp_seconds", 0)
        polled = values.get("sink_last_poll_timestamp_seconds", 0)
        age = f"{time.time() - applied:.0f}s ago" if applied else "nothing yet"
        checks.append(
            Check(
                f"sink into {label}",
                f"last applied {age}, polled {time.time() - polled:.1f}s ago",
                time.time() - polled < 30,
            )
        )
    return checks


def schema_versions() -> dict:
    """The field set each side's database syncs now."""
    found = {}
    for side in SIDES:
        with psycopg2.connect(database_url(side, READER.name), connect_timeout=3) as conn:
            with conn.cursor() as cur:
                found[side] = rollout.read(cur)
        conn.close()
    return found


def schema_checks() -> list[Check]:
    """Each side's schema version; mid-rollout is a warning (finish it: docs/schema-changes.md)."""
    sentence, mid = rollout.describe(schema_versions(), LATEST.version)
    return [Check("schema versions", sentence, warning=mid)]


def drift_check(caught_up: bool) -> Check:
    """Orders whose synced fields differ between the databases (only alarming once caught up)."""
    conns = {
        side: psycopg2.connect(database_url(side, READER.name), connect_timeout=3) for side in SIDES
    }
    try:
        report = compare_chunked(conns).report
    finally:
        for conn in conns.values():
            conn.close()
    drift = len(report.missing["store"]) + len(report.missing["warehouse"]) + len(report.differing)
    note = "" if caught_up or not drift else " (sinks still catching up)"
    return Check("drift (reconcile)", f"{drift} orders{note}", drift == 0 or not caught_up)


def sink_checks() -> list[Check]:
    """Each sink's own health: ok, or stuck at an offset with the failure that holds it there."""
    checks = []
    for target, port, label in sink_replicas():
        health = sinkhealth.probe(f"http://{t.HOST}:{port}", timeout=3)
        value = health.state if health.available else f"unavailable: {health.error}"
        name = f"sink {other(target)}->{label}"
        checks.append(Check(name, value, health.healthy))
    return checks


def redundancy_checks(states: dict) -> list[Check]:
    """Brokers, Connect workers and sink replicas: how many of each run, which one is down.

    One down is a degraded cluster: it still syncs, but it has lost its spare.
    """
    groups = {
        "kafka brokers": brokers(),
        "connect workers": connect_workers(),
        **{
            f"sink replicas into {target}": [
                sink_name(other(target), target, r) for r in range(t.SINK_REPLICAS)
            ]
            for target in t.SINK_METRICS_PORTS
        },
    }
    checks = []
    for what, names in groups.items():
        down = [n for n in names if states.get(n, {}).get("statename") != "RUNNING"]
        running = f"{len(names) - len(down)} of {len(names)} running"
        value = f"{running}; DEGRADED: {', '.join(down)} down" if down else running
        checks.append(Check(what, value, not down))
    return checks


def all_checks(states: dict | None = None) -> list[Check]:
    """Run every check; a failing probe becomes an unhealthy line, not a crash."""
    checks = redundancy_checks(states) if states is not None else []
    caught_up = False
    probes = (sink_checks, slot_checks, snapshot_checks, kafka_checks, freshness_checks)
    for probe in (*probes, schema_checks):
        try:
            result = probe()
        except Exception as error:  # the screen must still show what it could find out
            checks.append(
                Check(probe.__name__.replace("_checks", ""), f"unavailable: {error}", False)
            )
            continue
        if probe is kafka_checks:
            result, caught_up = result
        checks.extend(result)
    try:
        checks.append(drift_check(caught_up))
    except Exception as error:
        checks.append(Check("drift (reconcile)", f"unavailable: {error}", False))
    return checks
