"""Test helpers: waiting on conditions, reading databases and topics of the running stack."""

import json
import subprocess
import sys
import time
import uuid
from contextlib import contextmanager

import psycopg2
import psycopg2.extras
from confluent_kafka import Consumer, TopicPartition

from ordersync.mapping import TABLES, topic
from stack import topology
from stack.report import group_lag

psycopg2.extras.register_uuid()


def wait_for(condition, timeout: float = 30.0, what: str = "condition"):
    """Poll a condition until it returns a truthy value; fail with `what` at the deadline."""
    deadline = time.monotonic() + timeout
    delay = 0.02
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        time.sleep(delay)  # poll interval between checks, not a wait for the outcome
        delay = min(delay * 1.5, 0.5)


def connect(side: str, database: str | None = None):
    """Open an autocommit connection to a side's database (the stack's own by default)."""
    dsn = topology.database_url(side)
    if database:
        dsn = dsn.rsplit("/", 1)[0] + "/" + database
    conn = psycopg2.connect(dsn, cursor_factory=psycopg2.extras.RealDictCursor)
    conn.autocommit = True
    return conn


def fetch_row(side: str, order_id, conn=None) -> dict | None:
    """Return one order row of a side's database, tombstones included."""
    own = conn is None
    conn = conn or connect(side)
    try:
        with conn.cursor() as cur:
            cur.execute(f"SELECT * FROM {TABLES[side]} WHERE id = %s", (uuid.UUID(str(order_id)),))
            return cur.fetchone()
    finally:
        if own:
            conn.close()


def read_messages(name: str) -> list:
    """Read every message currently in a single-partition topic (raw Kafka messages)."""
    consumer = Consumer(
        {
            "bootstrap.servers": topology.BOOTSTRAP_SERVERS,
            "group.id": f"test-reader-{uuid.uuid4()}",
            "enable.auto.commit": False,
        }
    )
    try:
        low, high = consumer.get_watermark_offsets(TopicPartition(name, 0), timeout=10)
        if high <= low:
            return []
        consumer.assign([TopicPartition(name, 0, low)])
        messages, last = [], low - 1
        while last < high - 1:
            message = consumer.poll(10)
            assert message is not None, "topic read timed out"
            if message.error():
                continue
            last = message.offset()
            messages.append(message)
        return messages
    finally:
        consumer.close()


def read_topic(name: str) -> list:
    """Read every message value currently in a single-partition topic, JSON-decoded."""
    return [json.loads(m.value()) if m.value() else None for m in read_messages(name)]


def topic_events(side: str, order_id=None) -> list[dict]:
    """Read every event currently in a side's change topic, optionally only one order's."""
    events = read_topic(topic(side))
    if order_id is None:
        return events
    return [
        e
        for e in events
        if e and (e.get("after") or e.get("before") or {}).get("id") == str(order_id)
    ]


def sink_caught_up(source: str, group: str | None = None) -> bool:
    """Tell whether the sink reading `source` has committed every event in its topic."""
    consumer = Consumer(
        {"bootstrap.servers": topology.BOOTSTRAP_SERVERS, "group.id": "test-lag-probe"}
    )
    try:
        return all(lag == 0 for lag in group_lag(source, consumer, group).values())
    finally:
        consumer.close()


def quiet_for(seconds: float, order_id) -> list[dict]:
    """Watch both change topics for a while; return any event about the order that appears."""
    consumer = Consumer(
        {
            "bootstrap.servers": topology.BOOTSTRAP_SERVERS,
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
            event = json.loads(message.value())
            row = event.get("after") or event.get("before") or {}
            if row.get("id") == str(order_id):
                seen.append(event)
        return seen
    finally:
        consumer.close()


@contextmanager
def sinks_paused():
    """Stop both sinks so writes on both sides are truly concurrent, then restart them."""
    from stack import supervisor
    from stack.cli import start_component
    from stack.components import all_components

    sinks = [c for c in all_components() if c.name.startswith("sink-")]
    for sink in sinks:
        supervisor.stop(sink.name)
    try:
        yield
    finally:
        for sink in sinks:
            start_component(sink)


def run_module(module: str, *args: str, timeout: float = 300) -> subprocess.CompletedProcess:
    """Run `python -m module args` in the project root and capture its output."""
    return subprocess.run(
        [sys.executable, "-m", module, *args],
        cwd=topology.ROOT,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def reconcile(*args: str) -> subprocess.CompletedProcess:
    """Run the reconcile command and capture its report."""
    return run_module("connectors.reconcile", *args)
