"""Test helpers: waiting on conditions, reading databases and topics of the running stack."""

import json
import subprocess
import sys
import time
import uuid
from contextlib import contextmanager

import psycopg2
import psycopg2.extras
import requests
from confluent_kafka import Consumer, TopicPartition

from ordersync.mapping import TABLES, topic
from ordersync.roles import APP, DEBEZIUM
from stack import topology
from stack.report import group_lag
from stack.secrets import database_url

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


def connect(side: str, database: str | None = None, role: str = APP.name):
    """Open an autocommit connection to a side's database (the stack's own by default).

    As the app's role unless told otherwise: plain SQL in tests is an ordinary local writer.
    """
    dsn = database_url(side, role, database)
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


def decoded(value: bytes | None):
    """A message value as JSON; None for an empty or non-JSON one (the fuzz test leaves some)."""
    try:
        return json.loads(value) if value else None
    except ValueError:
        return None


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
    """Every message value currently in a single-partition topic, JSON-decoded (None if not)."""
    return [decoded(m.value()) for m in read_messages(name)]


def topic_events(side: str, order_id=None) -> list[dict]:
    """Read every event currently in a side's change topic, optionally only one order's."""
    events = read_topic(topic(side))
    if order_id is None:
        return events
    return [e for e in events if row_of(e).get("id") == str(order_id)]


def row_of(event) -> dict:
    """The row a change event carries (after, else before), or {} for anything else."""
    if not isinstance(event, dict):
        return {}
    row = event.get("after") or event.get("before")
    return row if isinstance(row, dict) else {}


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
            event = decoded(message.value())
            if row_of(event).get("id") == str(order_id):
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


@contextmanager
def frozen(name: str):
    """SIGSTOP a supervised process (it keeps its place and its connections), then SIGCONT it."""
    import os
    import signal

    from stack import supervisor

    pid = supervisor.states()[name]["pid"]
    os.kill(pid, signal.SIGSTOP)
    try:
        yield pid
    finally:
        os.kill(pid, signal.SIGCONT)


def sink_metric(target: str, name: str, **labels) -> float:
    """Sum the samples of one metric of the sink writing into `target` that match the labels."""
    from prometheus_client.parser import text_string_to_metric_families

    port = topology.SINK_METRICS_PORTS[target]
    text = requests.get(f"http://{topology.HOST}:{port}/metrics", timeout=5).text
    return sum(
        sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
        if sample.name == name and all(sample.labels.get(k) == v for k, v in labels.items())
    )


def sink_health(target: str) -> dict:
    """The /healthz body of the sink writing into `target`."""
    port = topology.SINK_METRICS_PORTS[target]
    return requests.get(f"http://{topology.HOST}:{port}/healthz", timeout=5).json()


def connector_status(name: str) -> dict:
    """The connector's status document."""
    return requests.get(f"{topology.CONNECT_URL}/connectors/{name}/status", timeout=10).json()


def tasks_running(name: str) -> bool:
    """Tell whether the connector and its task run."""
    status = connector_status(name)
    tasks = status.get("tasks") or []
    return status["connector"]["state"] == "RUNNING" and tasks and tasks[0]["state"] == "RUNNING"


def forget_capture(side: str) -> None:
    """Stop a connector and erase its offsets and slot, as if it had never been registered."""
    name = f"{side}-source"
    requests.put(f"{topology.CONNECT_URL}/connectors/{name}/stop", timeout=30).raise_for_status()
    wait_for(lambda: connector_status(name)["connector"]["state"] == "STOPPED", 60, "stopped")
    requests.delete(
        f"{topology.CONNECT_URL}/connectors/{name}/offsets", timeout=30
    ).raise_for_status()
    conn = connect(side, role=DEBEZIUM.name)  # the role that owns replication
    with conn.cursor() as cur:
        slot = f"{side}_cdc"
        wait_for(lambda: not slot_active(cur, slot), 60, "slot released")
        cur.execute("SELECT pg_drop_replication_slot(%s)", (slot,))
    conn.close()


def slot_active(cur, slot: str) -> bool:
    """Tell whether a replication slot is in use."""
    cur.execute("SELECT active FROM pg_replication_slots WHERE slot_name = %s", (slot,))
    return cur.fetchone()["active"]


@contextmanager
def recaptured(side: str):
    """Erase a connector's offsets and slot, run the body, resume: Debezium snapshots again."""
    name = f"{side}-source"
    forget_capture(side)
    try:
        yield
    finally:
        url = f"{topology.CONNECT_URL}/connectors/{name}/resume"
        requests.put(url, timeout=30).raise_for_status()
    wait_for(lambda: tasks_running(name), 60, f"{name} running again")


def end_offset(name: str) -> int:
    """The end offset of a single-partition topic."""
    consumer = Consumer({"bootstrap.servers": topology.BOOTSTRAP_SERVERS, "group.id": "test-end"})
    try:
        return consumer.get_watermark_offsets(TopicPartition(name, 0), timeout=10)[1]
    finally:
        consumer.close()
