"""`python -m bench.scale`: what scaling out buys on this machine, in one run.

- the sink draining a 3-partition topic with 1 and with 2 replicas in one consumer group;
- Store→Warehouse latency at BENCH_RATE writes/s on the single-node stack, then on a cluster
  stack (3 brokers, 2 Connect workers, 2 sink replicas a direction) that this command starts
  with its own data and ports (100 up) and stops again;
- on a cluster stack, the stall of writes (BENCH_RATE/2 per API) after kill -9 of each kind of
  component (bench/failover.py).

Needs the running single-node stack (`make bench-scale` starts it). Sizes: BENCH_SECONDS (60),
BENCH_RATE (200), BENCH_EVENTS (100000), BENCH_RESULTS (bench/results); BENCH_ONLY picks
scenarios by name (drain_1_replica, drain_2_replicas, latency_single, latency_cluster,
failover_cluster).
"""

import json
import os
import subprocess
import sys
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

import psutil
from confluent_kafka.admin import AdminClient, NewTopic

from bench import failover, kafka, scenarios
from bench.db import connect, migrated_scratch
from bench.sizes import number
from ordersync import topology
from ordersync.db.roles import SINK
from stack.cli import CLUSTER_PORT_SHIFT, CLUSTER_TEST
from stack.probes import free_port
from stack.secrets import database_url
from stack.topology import ROOT, STATE

DRAIN_PARTITIONS = 3
SCRATCH = "warehouse_bench"


def scratch_database() -> str:
    """A migrated scratch warehouse database with an empty order table; the sink's URL to it."""
    migrated_scratch(SCRATCH)
    target = connect("warehouse", SCRATCH)
    with target.cursor() as cur:
        cur.execute("TRUNCATE warehouse_order")
    target.close()
    return database_url("warehouse", SINK.name, SCRATCH)


def partitioned_topic(events: int) -> tuple[str, str]:
    """A scratch topic of DRAIN_PARTITIONS partitions filled with new-order events."""
    run = uuid.uuid4().hex[:8]
    topic = f"bench.scale.{run}"
    admin = AdminClient(kafka.client())
    new = NewTopic(topic, DRAIN_PARTITIONS, replication_factor=topology.REPLICATION_FACTOR)
    for future in admin.create_topics([new]).values():
        future.result(30)
    scenarios.fill_topic(topic, events, f"SC{run}")
    return topic, run


def sink_replica(topic: str, group: str, url: str, replica: int, port: int) -> subprocess.Popen:
    """Start one replica of a scratch sink group."""
    return subprocess.Popen(
        [sys.executable, "-m", "connectors.sink", "--source", "store", "--target", "warehouse"],
        env=os.environ
        | {
            "SINK_TOPIC": topic,
            **kafka.env(),
            "SINK_GROUP_ID": group,
            "SINK_REPLICA": str(replica),
            "SINK_DATABASE_URL": url,
            "SINK_METRICS_PORT": str(port),
        },
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        cwd=ROOT,
    )


def drain(events: int, replicas: int) -> dict:
    """Replicas of one group draining a pre-filled partitioned topic; summed peak RSS."""
    url = scratch_database()
    topic, run = partitioned_topic(events)
    group = f"bench-{run}"
    ports = [free_port() for _ in range(replicas)]
    processes = [sink_replica(topic, group, url, r, port) for r, port in enumerate(ports)]
    peak, first, done = 0, None, None
    try:
        deadline = time.monotonic() + 600
        while time.monotonic() < deadline and done is None:
            if any(p.poll() is not None for p in processes):
                raise RuntimeError("a sink replica exited while draining")
            peak = max(peak, sum(psutil.Process(p.pid).memory_info().rss for p in processes))
            count = sum(scenarios.handled(port) for port in ports)
            if count and first is None:
                first = time.monotonic()
            if count >= events:
                done = time.monotonic()
            time.sleep(0.05)  # sampling interval of RSS and progress
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            process.wait(30)
    scenarios.forget_scratch([topic, f"{topic}.dlq", f"{topic}.replay"], group)
    if done is None:
        raise TimeoutError("the replicas did not drain the topic in 600 s")
    seconds = max(done - first, 1e-3)
    return {
        "events": events,
        "replicas": replicas,
        "partitions": DRAIN_PARTITIONS,
        "seconds": round(seconds, 2),
        "events_per_s": round(events / seconds),
        "peak_rss_mb": round(peak / 2**20, 1),
    }


def latency(rate: float, seconds: float) -> dict:
    """Store→Warehouse latency on whatever stack this process's topology points at."""
    result = scenarios.pipeline_latency("store", rate, seconds)
    result.pop("samples")
    return result | {"brokers": topology.BROKERS, "sink_replicas": topology.SINK_REPLICAS}


def on_cluster(mode: str, rate: float, seconds: float):
    """Run `bench.scale <mode>` on a cluster stack started (and stopped) for it alone."""
    env = os.environ | CLUSTER_TEST
    env |= {
        "STACK_DIR": str(STATE / "cluster"),
        "STACK_PORT_OFFSET": str(topology.PORT_OFFSET + CLUSTER_PORT_SHIFT),
        "BENCH_RATE": str(rate),
        "BENCH_SECONDS": str(seconds),
    }
    (STATE / "cluster").mkdir(parents=True, exist_ok=True)
    command = [sys.executable, "-m", "stack", "run", "--"]
    command += [sys.executable, "-m", "bench.scale", mode]
    # its progress and any failure go to our stderr; its result is the RESULT line on stdout
    output = subprocess.run(
        command, env=env, cwd=ROOT, stdout=subprocess.PIPE, text=True, check=True
    ).stdout
    line = next(x for x in reversed(output.splitlines()) if x.startswith("RESULT "))
    return json.loads(line[len("RESULT ") :])


def table(results: dict) -> str:
    """The figures as a Markdown table."""
    rows = ["| scenario | figures |", "|---|---|"]
    for name in ("drain_1_replica", "drain_2_replicas"):
        if name in results:
            r = results[name]
            rows.append(
                f"| sink drain, {r['replicas']} replica(s), {r['partitions']} partitions, "
                f"{r['events']:,} events | {r['events_per_s']:,} events/s, "
                f"peak RSS {r['peak_rss_mb']} MB (all replicas) |"
            )
    for name, label in (("latency_single", "single node"), ("latency_cluster", "cluster")):
        if name in results:
            r = results[name]
            rows.append(
                f"| Store→Warehouse @ {r['rate']:.0f} w/s, {r['seconds']:.0f} s, {label} "
                f"({r['brokers']} broker(s), {r['sink_replicas']} sink replica(s)) | "
                f"p50 {r['latency']['p50_ms']:.1f} ms, p99 {r['latency']['p99_ms']:.1f} ms, "
                f"{r['writes']} writes, {r['failures']} failed |"
            )
    for r in results.get("failover_cluster", []):
        stalls = "; ".join(
            f"{way.replace('_to_', '→')}: stall p50 {f['p50_ms'] / 1000:.1f} s, "
            f"p99 {f['p99_ms'] / 1000:.1f} s, max {f['max_ms'] / 1000:.1f} s, lost {f['lost']}"
            for way, f in r.items()
            if "_to_" in way
        )
        rows.append(f"| kill -9 {r['kind']} ({r['killed']}), cluster | {stalls} |")
    return "\n".join(rows)


def main(argv: list[str]) -> int:
    """Run the scale scenarios (or, with `latency`, one latency run for the parent)."""
    rate, seconds = number("BENCH_RATE", 200), number("BENCH_SECONDS", 60)
    if argv[:1] == ["latency"]:
        print("RESULT " + json.dumps(latency(rate, seconds)), flush=True)
        return 0
    if argv[:1] == ["failover"]:
        print("RESULT " + json.dumps(failover.failover(rate / 2)), flush=True)
        return 0
    events = int(number("BENCH_EVENTS", 100_000))
    plan = [
        ("drain_1_replica", lambda: drain(events, 1)),
        ("drain_2_replicas", lambda: drain(events, 2)),
        ("latency_single", lambda: latency(rate, seconds)),
        ("latency_cluster", lambda: on_cluster("latency", rate, seconds)),
        ("failover_cluster", lambda: on_cluster("failover", rate, seconds)),
    ]
    only = os.environ.get("BENCH_ONLY")  # a comma-separated subset, e.g. failover_cluster
    plan = [(name, run) for name, run in plan if not only or name in only.split(",")]
    results = {"when": datetime.now(UTC).isoformat(timespec="seconds")}
    for name, run in plan:
        started = time.monotonic()
        print(f"[bench] {name} ...", flush=True)
        results[name] = run()
        print(f"[bench] {name} done in {time.monotonic() - started:.0f}s", flush=True)
    out = Path(os.environ.get("BENCH_RESULTS", ROOT / "bench" / "results"))
    out.mkdir(parents=True, exist_ok=True)
    path = out / f"scale-{datetime.now(UTC):%Y%m%dT%H%M%SZ}.json"
    path.write_text(json.dumps(results, indent=2, default=str) + "\n")
    print(table(results))
    print(f"[bench] results: {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
