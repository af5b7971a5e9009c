"""`python -m bench.outage` (`make bench-outage`): long outages on the single-node stack, figures.

- **sink outage**: the Store→Warehouse sink stopped while BENCH_OUTAGE_EVENTS (100,000) Store
  changes accumulate in Kafka (plain SQL inserts, captured by Debezium); started again, it
  catches up: drain rate, the sink's peak RSS while draining, nothing lost.
- **Connect outage**: Connect stopped for BENCH_OUTAGE_SECONDS (300) while both APIs take
  BENCH_OUTAGE_RATE (20) writes/s each: which alerts of monitoring/alerts.yml fire (promtool on a
  scrape of the watchdog, the monitor and the sinks), the WAL the slots kept, the time to catch
  up once Connect is back, nothing lost, and no alert left firing.

Results go to BENCH_RESULTS (bench/results) as outage-<time>.json, and a table is printed.
"""

import contextlib
import json
import os
import sys
import threading
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

import psutil
import requests
from confluent_kafka import Consumer, TopicPartition

from bench import kafka
from bench.db import connect, insert_orders, retire, scalar
from bench.failover import writes_both_ways
from bench.sizes import number
from ordersync import topology as t
from ordersync.sync.mapping import SIDES, TABLES, other, topic
from stack import alerts, supervisor
from stack.cli import start_component
from stack.components import all_components, connect_workers
from stack.probes import NotReady, wait_until
from stack.report import all_checks
from stack.topology import ROOT, sink_name

SINK = sink_name("store", "warehouse")


def count(side: str, prefix: str) -> int:
    """Orders of a side whose number starts with the prefix."""
    conn = connect(side)
    try:
        return scalar(
            conn, f"SELECT count(*) FROM {TABLES[side]} WHERE order_number LIKE %s", f"{prefix}-%"
        )
    finally:
        conn.close()


def end_offsets() -> int:
    """The Store change topic's end offsets, summed over its partitions."""
    consumer = Consumer(kafka.client() | {"group.id": "bench-outage"})
    try:
        meta = consumer.list_topics(topic("store"), timeout=10).topics[topic("store")]
        return sum(
            consumer.get_watermark_offsets(TopicPartition(topic("store"), p), timeout=10)[1]
            for p in meta.partitions
        )
    finally:
        consumer.close()


def by_name(name: str):
    """The component of that supervised name."""
    return {c.name: c for c in all_components()}[name]


def sink_outage(events: int) -> dict:
    """Stop the sink, let `events` Store changes pile up in Kafka, start it, watch it drain."""
    prefix = f"SO{uuid.uuid4().hex[:6]}"
    supervisor.stop(SINK)
    before = end_offsets()
    try:
        conn = connect("store")
        for first in range(0, events, 10_000):  # transactions of 10,000: WAL in steady chunks
            insert_orders(conn, TABLES["store"], prefix, first, min(events, first + 10_000))
        conn.close()
        wait_until(lambda: end_offsets() - before >= events, 600, "the changes in Kafka")
    finally:
        start_component(by_name(SINK))
    started = time.monotonic()
    process = psutil.Process(supervisor.states()[SINK]["pid"])
    peak, arrived = 0, 0
    while arrived < events and time.monotonic() - started < 900:
        peak = max(peak, sum(p.memory_info().rss for p in [process, *process.children(True)]))
        arrived = count("warehouse", prefix)
        time.sleep(0.2)  # sampling period of RSS and progress
    seconds = time.monotonic() - started
    retire("store", prefix)
    return {
        "events": events,
        "drain_seconds": round(seconds, 1),
        "events_per_s": round(events / seconds),
        "sink_peak_rss_mb": round(peak / 2**20, 1),
        "lost": events - arrived,
    }


def arrived(side: str, prefix: str, wanted: int) -> int:
    """Wait (10 minutes at most) until `wanted` orders of the prefix are on the side; how many."""
    with contextlib.suppress(NotReady):
        wait_until(lambda: count(side, prefix) >= wanted, 600, f"{wanted} {prefix} orders")
    return count(side, prefix)


def drift_compared() -> float:
    """When the pipeline monitor last compared the two databases (0 before it did)."""
    text = requests.get(f"http://{t.HOST}:{t.MONITOR_METRICS_PORT}/metrics", timeout=5).text
    prefix = 'sync_monitor_last_success_timestamp_seconds{probe="drift"}'
    return next((float(x.split()[-1]) for x in text.splitlines() if x.startswith(prefix)), 0.0)


def slot_bytes() -> dict[str, float]:
    """WAL each slot retains, from the watchdog."""
    text = requests.get(f"http://{t.HOST}:{t.WATCHDOG_METRICS_PORT}/metrics", timeout=5).text
    return {
        line.split('side="')[1].split('"')[0]: float(line.split()[-1])
        for line in text.splitlines()
        if line.startswith("pg_replication_slot_retained_bytes{")
    }


def connect_outage(seconds: float, rate: float) -> dict:
    """Connect down for `seconds` under writes both ways; alerts, WAL, catch-up, nothing lost."""
    prefix, written = f"CO{uuid.uuid4().hex[:5]}", {}
    workers = connect_workers()
    for name in workers:
        supervisor.stop(name)
    try:
        writer = threading.Thread(target=writes_both_ways, args=(rate, seconds, prefix, written))
        writer.start()
        writer.join()
        time.sleep(10)  # two watchdog checks after the last write: the scrape shows the end
        during = alerts.firing_now(minutes=10)
        retained = slot_bytes()
    finally:
        back = time.monotonic()
        for name in workers:
            start_component(by_name(name))
    caught_up, lost = {}, {}
    for side in SIDES:
        wanted, mine = len(written[side][0]), f"{prefix}{side[0]}"
        lost[side] = wanted - arrived(other(side), mine, wanted)
        caught_up[side] = round(time.monotonic() - back, 1)
    wait_until(lambda: all(c.healthy for c in all_checks(supervisor.states())), 300, "healthy")
    # the monitor compares the databases once a minute: the verdict waits for one made now
    compared = time.time()
    wait_until(lambda: drift_compared() > compared, 180, "a comparison after the catch-up")
    after = alerts.firing_now(minutes=10)
    for side in SIDES:
        retire(side, f"{prefix}{side[0]}")
    return {
        "seconds": seconds,
        "rate_per_side": rate,
        "writes": {side: len(written[side][0]) for side in SIDES},
        "alerts_firing_during": sorted(during),
        "slot_retained_mb": {side: round(b / 1e6, 1) for side, b in retained.items()},
        "caught_up_after_s": caught_up,
        "lost": lost,
        "alerts_firing_after": sorted(after),
    }


def table(results: dict) -> str:
    """The figures as a Markdown table."""
    s, c = results["sink_outage"], results["connect_outage"]
    return "\n".join(
        [
            "| outage | figures |",
            "|---|---|",
            f"| sink stopped, {s['events']:,} changes pile up | drained in {s['drain_seconds']} s "
            f"({s['events_per_s']:,} events/s), sink peak RSS {s['sink_peak_rss_mb']} MB, "
            f"lost {s['lost']} |",
            f"| Connect stopped {c['seconds']:.0f} s, {c['rate_per_side']:.0f} writes/s per API | "
            f"alerts: {', '.join(c['alerts_firing_during']) or 'none'}; WAL kept "
            f"{per_side(c['slot_retained_mb'])} MB; caught up {per_side(c['caught_up_after_s'])}"
            f" s after Connect was back; lost {per_side(c['lost'])}; firing after: "
            f"{', '.join(c['alerts_firing_after']) or 'none'} |",
        ]
    )


def per_side(figures: dict) -> str:
    """{'store': 1, 'warehouse': 2} as 'store 1, warehouse 2'."""
    return ", ".join(f"{side} {value}" for side, value in figures.items())


def main() -> int:
    """Run both outages and report them."""
    events = int(number("BENCH_OUTAGE_EVENTS", 100_000))
    seconds = number("BENCH_OUTAGE_SECONDS", 300)
    rate = number("BENCH_OUTAGE_RATE", 20)
    results = {"when": datetime.now(UTC).isoformat(timespec="seconds")}
    print(f"[bench] sink outage with {events:,} changes ...", flush=True)
    results["sink_outage"] = sink_outage(events)
    print(f"[bench] Connect outage of {seconds:.0f} s ...", flush=True)
    results["connect_outage"] = connect_outage(seconds, rate)
    out = Path(os.environ.get("BENCH_RESULTS", ROOT / "bench" / "results"))
    out.mkdir(parents=True, exist_ok=True)
    path = out / f"outage-{datetime.now(UTC):%Y%m%dT%H%M%SZ}.json"
    path.write_text(json.dumps(results, indent=2) + "\n")
    print(table(results))
    print(f"[bench] results: {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
