"""Failover on a cluster stack: kill -9 one component under writes both ways, measure the stall.

For each kind of kill (the active KRaft controller, the first bootstrap address, the leader of
the Store topic's first partition, the coordinator of the Connect workers' group, the Connect
worker running the Store connector, a sink replica), writes go on at BENCH_RATE per API for
BEFORE seconds, the component is killed (and kept down, as a dead machine would be), writes go
on for AFTER seconds, then it is brought back. The per-write stall is each write's latency (API
commit on one side → row on the other); the figure is its p99 over the writes made in the AFTER
window. Nothing may be lost: every acknowledged write must arrive. Run through
`python -m bench.scale` (`make bench-scale`).
"""

import contextlib
import json
import os
import signal
import threading
import time
import uuid
from datetime import UTC, datetime

import requests
from confluent_kafka import Consumer, TopicPartition
from confluent_kafka.admin import AdminClient, AlterConfigOpType, ConfigEntry, ConfigResource

from bench import kafka
from bench.db import connect, created_at, retire, scalar
from bench.pacing import paced, percentiles
from bench.scenarios import api_writer
from connectors.monitor import under_replicated
from connectors.sink.events import loads_envelope
from ordersync import topology as t
from ordersync.kafka.access import CONNECT_GROUP
from ordersync.sync.mapping import SIDES, TABLES, other, topic
from stack import configs, supervisor
from stack.cli import start_component
from stack.components import all_components, connect_workers
from stack.probes import NotReady, wait_until
from stack.report import all_checks
from stack.secrets import connect_auth
from stack.topology import broker_name, sink_name

BEFORE, AFTER = 5.0, 40.0


def controller() -> str:
    """The supervised name of the active KRaft controller, as the voters last recorded it.

    Kafka's admin API names a random broker as "the controller" under KRaft; each voter keeps
    the quorum's leader in its quorum-state file.
    """
    states = [
        json.loads(path.read_text())
        for node in range(1, t.BROKERS + 1)
        if (path := configs.kafka_data(node) / "__cluster_metadata-0" / "quorum-state").exists()
    ]
    latest = max((s for s in states if s["leaderId"] >= 0), key=lambda s: s["leaderEpoch"])
    return broker_name(latest["leaderId"])


def leader_of_store_topic() -> str:
    """The broker leading partition 0 of the Store change topic."""
    admin = AdminClient(kafka.client())  # kept referenced until its answer is in
    metadata = admin.list_topics(topic("store"), timeout=30)
    return broker_name(metadata.topics[topic("store")].partitions[0].leader)


def offsets_partition(group: str, partitions: int) -> int:
    """The __consumer_offsets partition of a group: Utils.abs(groupId.hashCode()) % partitions."""
    h = 0
    for char in group:  # Java's String.hashCode, a signed 32-bit int
        h = (31 * h + ord(char)) & 0xFFFFFFFF
    signed = h - (1 << 32) if h >= 1 << 31 else h
    return (0 if signed == -(1 << 31) else abs(signed)) % partitions


def connect_coordinator() -> str:
    """The broker coordinating the Connect workers' group (its death moves the group).

    A group's coordinator leads the __consumer_offsets partition its id hashes to; librdkafka's
    group description refuses a group that is not a consumer group.
    """
    admin = AdminClient(kafka.client())  # kept referenced until its answer is in
    partitions = admin.list_topics("__consumer_offsets", timeout=30).topics["__consumer_offsets"]
    index = offsets_partition(CONNECT_GROUP, len(partitions.partitions))
    return broker_name(partitions.partitions[index].leader)


def worker_of_store_task() -> str:
    """The Connect worker running the Store connector's task."""
    url = f"{t.CONNECT_URL}/connectors/store-source/status"
    status = requests.get(url, timeout=10, auth=connect_auth()).json()
    port = int(status["tasks"][0]["worker_id"].rsplit(":", 1)[1])
    return connect_workers()[t.CONNECT_PORTS.index(port)]


# kind of kill -> how to find its victim on the cluster as it is at that moment
VICTIMS = {
    "kafka controller": controller,
    "kafka first bootstrap": lambda: broker_name(1),
    "kafka partition leader": leader_of_store_topic,
    "kafka connect coordinator": connect_coordinator,
    "connect worker (store task)": worker_of_store_task,
    "sink replica": lambda: sink_name("store", "warehouse", 1),
}


def kill(name: str) -> None:
    """kill -9 a component's process group and keep supervisord from restarting it."""
    pid = supervisor.states()[name]["pid"]
    os.killpg(os.getpgid(pid), signal.SIGKILL)
    supervisor.stop(name)  # it may already be starting again: stopped, it stays down


def healthy() -> bool:
    """Every `make status` line healthy (warnings allowed), every partition fully in sync.

    A broker back from the last kill takes a while to rejoin every ISR: killing the next one
    before that would leave some partitions below min.insync.replicas, a double failure.
    """
    if not all(check.healthy for check in all_checks(supervisor.states())):
        return False
    consumer = Consumer(kafka.client() | {"group.id": "bench-failover"})
    try:
        return not any(under_replicated(consumer).values())
    finally:
        consumer.close()


def writes_both_ways(rate: float, seconds: float, prefix: str, into: dict) -> None:
    """Paced API writes on both sides at once; `into` gets side -> (ids, failures)."""

    def write(side: str) -> None:
        ids, _, failures = paced(api_writer(side, f"{prefix}{side[0]}"), rate, seconds)
        into[side] = (ids, failures)

    threads = [threading.Thread(target=write, args=(side,)) for side in SIDES]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()


def append_times() -> None:
    """Stamp the change topics' messages with the broker's append time (a bench cluster).

    Debezium's envelope carries the commit time and its own read time; the append time splits
    what is left into Debezium → broker and broker → sink.
    """
    entry = ConfigEntry(
        "message.timestamp.type", "LogAppendTime", incremental_operation=AlterConfigOpType.SET
    )
    resources = [
        ConfigResource(ConfigResource.Type.TOPIC, topic(side), incremental_configs=[entry])
        for side in SIDES
    ]
    admin = AdminClient(kafka.client())
    for future in admin.incremental_alter_configs(resources).values():
        future.result(timeout=30)


def stamps(source: str, ids: set, since: datetime) -> dict:
    """Order id -> (commit ms, Debezium read ms, broker append ms) from the change topic."""
    consumer = Consumer(
        kafka.client() | {"group.id": "bench-failover", "enable.auto.commit": False}
    )
    name = topic(source)
    try:
        partitions = consumer.list_topics(name, timeout=30).topics[name].partitions
        start = int(since.timestamp() * 1000) - 2000
        wanted = [TopicPartition(name, p, start) for p in partitions]
        positions = consumer.offsets_for_times(wanted, timeout=30)
        ends = {
            p: consumer.get_watermark_offsets(TopicPartition(name, p), timeout=30)[1]
            for p in partitions
        }
        consumer.assign([tp for tp in positions if tp.offset >= 0])
        left = {tp.partition for tp in positions if 0 <= tp.offset < ends[tp.partition]}
        found = {}
        while left:
            message = consumer.poll(5)
            if message is None:
                break
            if message.error() or message.value() is None:
                continue
            if message.offset() >= ends[message.partition()] - 1:
                left.discard(message.partition())
            envelope = loads_envelope(message.value())
            after = envelope.get("after") or {}
            if after.get("id") in ids and after["id"] not in found:
                commit = (envelope.get("source") or {}).get("ts_ms")
                found[after["id"]] = (commit, envelope.get("ts_ms"), message.timestamp()[1])
        return found
    finally:
        consumer.close()


def hops(source: str, ids: list, since: datetime, landed: dict) -> dict:
    """p99 seconds of each hop for the writes made after the kill."""
    waits: dict[str, list[float]] = {"debezium": [], "to_broker": [], "to_sink": []}
    for key, (commit, read, appended) in stamps(source, set(ids), since).items():
        if key not in landed or commit / 1000 < since.timestamp():
            continue
        waits["debezium"].append((read - commit) / 1000)
        waits["to_broker"].append((appended - read) / 1000)
        waits["to_sink"].append(landed[key].timestamp() - appended / 1000)
    return {
        hop: round(percentiles(w)["p99_ms"] / 1000, 1) if w else None for hop, w in waits.items()
    }


def stall(source: str, ids: list, since: datetime) -> dict:
    """Latency of each write born after `since` (the kill), once every write has arrived."""
    target = other(source)
    source_conn, target_conn = connect(source), connect(target)
    arrived = f"SELECT count(*) FROM {TABLES[target]} WHERE id = ANY(%s::uuid[])"
    try:
        with contextlib.suppress(NotReady):  # what never arrived is counted as lost below
            wait_until(lambda: scalar(target_conn, arrived, ids) == len(ids), 300, "every write")
        born, landed = created_at(source_conn, source, ids), created_at(target_conn, target, ids)
    finally:
        source_conn.close()
        target_conn.close()
    late = [(landed[i] - born[i]).total_seconds() for i in born if born[i] >= since]
    return percentiles(late) | {
        "lost": len(ids) - len(landed),
        "p99_by_hop": hops(source, ids, since, landed),
    }


def one_kill(kind: str, name: str, rate: float) -> dict:
    """Writes, a kill -9 after BEFORE seconds, AFTER seconds more; the component back."""
    prefix = f"FO{uuid.uuid4().hex[:5]}"
    result: dict = {}
    writer = threading.Thread(target=writes_both_ways, args=(rate, BEFORE + AFTER, prefix, result))
    writer.start()
    time.sleep(BEFORE)  # the load runs on its own schedule; the kill lands within it
    killed_at = datetime.now(UTC)
    kill(name)
    writer.join()
    start_component({c.name: c for c in all_components()}[name])
    figures = {"kind": kind, "killed": name, "rate_per_side": rate}
    for side in SIDES:
        ids, failures = result[side]
        figures[f"{side}_to_{other(side)}"] = stall(side, ids, killed_at) | {
            "writes": len(ids),
            "api_failures": failures,
        }
        retire(side, f"{prefix}{side[0]}")
    wait_until(healthy, 300, f"the stack healthy after {name} came back")
    return figures


def failover(rate: float) -> list[dict]:
    """Every kind of kill, one after the other, each on a healthy stack."""
    wait_until(healthy, 300, "a healthy cluster stack")
    append_times()
    results = []
    kinds = os.environ.get("BENCH_KILLS")  # a comma-separated subset of VICTIMS, in its order
    for kind, find in VICTIMS.items():
        if kinds and kind not in kinds.split(","):
            continue
        name = find()
        print(f"[bench] failover: kill -9 {name} ({kind})", flush=True)
        results.append(one_kill(kind, name, rate))
    return results
