"""The benchmark scenarios: each returns a dict of figures."""

import json
import math
import os
import shutil
import subprocess
import sys
import threading
import time
import uuid

import psutil
import requests
from confluent_kafka import KafkaException, Producer
from confluent_kafka.admin import AdminClient

from bench import cost, jdbc, kafka, native
from bench.client import PATHS, Tokens, order_body
from bench.db import connect, created_at, insert_orders, migrated_scratch, retire, scalar
from bench.pacing import paced, percentiles
from ordersync import topology
from ordersync.db.roles import SINK
from ordersync.sync.mapping import SIDES, TABLES, columns, other
from ordersync.sync.sinkhealth import metric_totals
from stack.probes import free_port, wait_until
from stack.secrets import database_url
from stack.topology import ROOT


def api_writer(side: str, prefix: str):
    """A function creating order i through the side's API; returns its id."""
    local = threading.local()

    def write(i: int):
        if not hasattr(local, "http"):
            local.http = requests.Session()
            local.http.headers.update(Tokens.headers(side))
        body = order_body(side, order_number=f"{prefix}-{i}")
        response = local.http.post(topology.app_url(side) + PATHS[side], json=body, timeout=10)
        return response.json()["id"] if response.status_code == 201 else None

    return write


def lag(seconds: float) -> float:
    """How far behind schedule a paced run may fall before it stops: it did not keep up."""
    return max(2.0, 0.1 * seconds)


def kept_up(rate: float, seconds: float, writes: int, wrote: float, caught_up: float) -> bool:
    """Whether a paced run held its rate: every write made on schedule, and no lag piling up."""
    on_time = writes >= int(rate * seconds) and wrote <= seconds * 1.1 + 0.5
    return on_time and caught_up <= lag(seconds)


def pipeline_latency(source: str, rate: float, seconds: float, step: bool = False) -> dict:
    """API commit on `source` → row on the other side, at a fixed rate; CPU per synced write.

    A curve `step` stops writing once it falls behind (bench/README.md); a plain run writes all.
    """
    target, prefix = other(source), f"BL{uuid.uuid4().hex[:6]}"
    target_conn, source_conn = connect(target), connect(source)
    arrived = f"SELECT count(*) FROM {TABLES[target]} WHERE id = ANY(%s::uuid[])"
    mine = cost.sessions(**{source: source_conn, target: target_conn})
    with cost.metered(exclude=mine) as meter:
        began = time.monotonic()
        ids, api_times, failures = paced(
            api_writer(source, prefix), rate, seconds, give_up=lag(seconds) if step else None
        )
        wrote = time.monotonic() - began
        wait_until(lambda: scalar(target_conn, arrived, ids) == len(ids), 120, "all rows arrived")
    caught_up = meter.wall - wrote
    born, landed = created_at(source_conn, source, ids), created_at(target_conn, target, ids)
    lat = [(landed[i] - born[i]).total_seconds() for i in born if i in landed]
    target_conn.close()
    source_conn.close()
    retire(source, prefix)
    return {
        "latency": percentiles(lat),
        "api": percentiles(api_times),
        "writes": len(ids),
        "failures": failures,
        "rate": rate,
        "seconds": seconds,
        "kept_up": kept_up(rate, seconds, len(ids), wrote, caught_up),
        "cpu_ms_per_write": cost.per_write(meter.used, len(ids)),
        "samples": lat,
    }


def warm_up(rate: float, seconds: float) -> None:
    """Writes both ways, not measured: the JVMs compile their hot paths before a figure counts.

    A stack fresh from `make up` spends its first seconds of traffic in the JIT compilers; that
    is a one-off cost, not the cost of a synced write or of a stack at rest.
    """
    for source in SIDES:
        pipeline_latency(source, rate, seconds)


def native_latency(rate: float, seconds: float, step: bool = False) -> dict:
    """Insert → arrival through a native publication/subscription, at the same rate."""
    native.setup()
    local = threading.local()

    def write(_i):
        if not hasattr(local, "conn"):
            local.conn = connect("store")
        return native.insert_one(local.conn)

    try:
        with cost.metered(native.workers()) as meter:
            began = time.monotonic()
            ids, _, failures = paced(write, rate, seconds, give_up=lag(seconds) if step else None)
            wrote = time.monotonic() - began
            wait_until(lambda: native.arrived() >= len(ids), 120, "native rows arrived")
        lat = native.latencies(ids)
    finally:
        native.teardown()  # as in native_backlog: no subscription left holding WAL
    return {
        "latency": percentiles(lat),
        "writes": len(ids),
        "failures": failures,
        "rate": rate,
        "kept_up": kept_up(rate, seconds, len(ids), wrote, meter.wall - wrote),
        "cpu_ms_per_write": cost.per_write(meter.used, len(ids)),
        "samples": lat,
    }


def curve(rates: list[float], seconds: float) -> dict:
    """p50/p99 per rate, both directions and native; a direction stops at its first missed step."""
    runs = {
        "store_to_warehouse": lambda r: pipeline_latency("store", r, seconds, step=True),
        "warehouse_to_store": lambda r: pipeline_latency("warehouse", r, seconds, step=True),
        "native": lambda r: native_latency(r, seconds, step=True),
    }
    out = {}
    for name, run in runs.items():
        steps = []
        for rate in rates:
            result = run(rate)
            lat = result["latency"]
            steps.append(
                {
                    "rate": rate,
                    "p50_ms": lat.get("p50_ms"),
                    "p99_ms": lat.get("p99_ms"),
                    "kept_up": result["kept_up"],
                    "cpu_ms_per_write": result["cpu_ms_per_write"].get("total"),
                }
            )
            print(f"[bench] curve {name} @ {rate:g}/s: {steps[-1]}", flush=True)
            if not result["kept_up"]:
                break
        out[name] = {"steps": steps, "knee": knee(steps)}
    return out


def knee(steps: list[dict], bound_ms: float = 100) -> float | None:
    """The highest rate that kept up with p99 under the bound."""
    good = [s["rate"] for s in steps if s["kept_up"] and (s["p99_ms"] or 1e9) < bound_ms]
    return max(good, default=None)


def idle(seconds: float) -> dict:
    """The stack's CPU with nothing to do, per component, as a share of one core."""
    with cost.metered() as meter:
        time.sleep(seconds)  # the measuring window itself: nothing is awaited
    return cost.share_of_core(meter.used, meter.wall) | {"seconds": seconds}


def settle(measure, window: float, most: float, tolerance: float = 0.25) -> tuple[float, bool]:
    """Rest until the stack's CPU stops falling; the seconds rested, and whether it settled.

    What a load leaves behind (the JVMs compiling code it warmed, autovacuum, a checkpoint)
    winds down over minutes. Settled: two windows in a row no more than `tolerance` points of a
    core below the lowest window before them (one flat window can be noise); at most `most` s.
    """
    lowest, flat, rested = math.inf, 0, 0.0
    for _ in range(int(most // window)):
        share = measure(window)["total_pct"]
        rested += window
        flat = flat + 1 if share >= lowest - tolerance else 0
        lowest = min(lowest, share)
        if flat == 2:
            return rested, True
    return rested, False


def idle_settled(seconds: float, most: float, window: float = 15) -> dict:
    """The stack's CPU at rest once what the last load left behind has wound down."""
    rested, settled = settle(idle, window, most)
    return idle(seconds) | {"rested_s": rested, "settled": settled}


def backlog_arrived(target, prefix: str, rows: int) -> bool:
    """Every backlog row is in the warehouse: counted only once the last one shows."""
    # the count scans the table with parallel workers the meter would charge to warehouse-db;
    # the last row's number is one index probe (with several partitions it may come early:
    # then the count decides, as it did before)
    last = f"{prefix}-{rows - 1}"
    probe = "SELECT count(*) FROM warehouse_order WHERE order_number = %s AND NOT deleted"
    if rows and scalar(target, probe, last) == 0:
        return False
    count = "SELECT count(*) FROM warehouse_order WHERE order_number LIKE %s"
    return scalar(target, count, f"{prefix}-%") == rows


def backlog(rows: int, batch: int = 1000) -> dict:
    """SQL inserts in `batch`-row transactions into the store → all applied in the warehouse."""
    prefix = f"BK{uuid.uuid4().hex[:6]}"
    source, target = connect("store"), connect("warehouse")
    meter = cost.Meter(exclude=cost.sessions(store=source, warehouse=target)).start()
    started = time.monotonic()
    for first in range(0, rows, batch):
        insert_orders(source, "store_order", prefix, first, min(first + batch, rows))
    inserted = time.monotonic() - started
    wait_until(lambda: backlog_arrived(target, prefix, rows), 600, "backlog")
    elapsed = time.monotonic() - started
    used = meter.stop()
    source.close()
    target.close()
    retire("store", prefix)
    return {
        "rows": rows,
        "insert_seconds": round(inserted, 2),
        "seconds": round(elapsed, 2),
        "rows_per_s": round(rows / elapsed),
        "cpu_ms_per_write": cost.per_write(used, rows),
    }


def native_backlog(rows: int, batch: int = 1000, shape: str = "narrow") -> dict:
    """The same number of rows through native logical replication.

    `narrow`: into the three-column scratch table (the run's calibration); `orders`: the
    backlog's very rows into a table shaped like store_order (bench/native.py).
    """
    table = native.setup(shape)
    conn = connect("store")
    try:
        meter = cost.Meter(native.workers()).start()
        started = time.monotonic()
        for first in range(0, rows, batch):
            native.insert_batch(conn, table, first, min(first + batch, rows))
        wait_until(lambda: native.arrived(table) == rows, 600, "native backlog")
        elapsed = time.monotonic() - started
        used = meter.stop()
    finally:
        # a failed run must not leave a subscription, and its slot, holding WAL
        conn.close()
        native.teardown()
    return {
        "rows": rows,
        "seconds": round(elapsed, 2),
        "rows_per_s": round(rows / elapsed),
        "cpu_ms_per_write": cost.per_write(used, rows),
    }


def fill_topic(topic: str, events: int, prefix: str, schemas: bool = False) -> None:
    """Write synthetic store-side Debezium events (one new order each) to a topic.

    With `schemas`, each key and value carries its Connect schema, as the JDBC sink needs.
    """
    producer = Producer(
        kafka.client()
        | {
            "linger.ms": 20,
            "batch.num.messages": 10000,
            "compression.type": "lz4",
        }
    )
    clock = json.dumps({n: 1 for n in columns("store")})
    for i in range(events):
        order_id = str(uuid.uuid4())
        after = {
            "id": order_id,
            "order_number": f"{prefix}-{i}",
            "customer_name": "Drain",
            "shipping_address": "2 Topic Rd",
            "items": '[{"sku": "D", "quantity": 1}]',
            "status": "pending",
            "tracking_number": None,
            "notes": None,
            "deleted": False,
            "sync_origin": "store",
            "field_versions": clock,
        }
        value = {
            "op": "c",
            "before": None,
            "after": after,
            "source": {"ts_ms": int(time.time() * 1000)},
        }
        key = {"id": order_id}
        if schemas:
            encoded_key, encoded = jdbc.with_schema(key, value)
        else:
            encoded_key, encoded = json.dumps(key), json.dumps(value)
        producer.produce(topic, key=encoded_key, value=encoded)
        if i % 10000 == 0:
            producer.poll(0)
    producer.flush(60)


def forget_scratch(topics: list[str], group: str) -> None:
    """Delete a run's scratch topics and consumer group, so runs do not pile up in Kafka."""
    client = AdminClient(kafka.client())
    futures = [*client.delete_topics(topics).values()]
    futures += client.delete_consumer_groups([group]).values()
    for future in futures:
        try:
            future.result(30)
        except KafkaException as error:  # leftovers are untidy, not wrong: say so and go on
            print(f"[bench] could not delete a scratch topic or group: {error}", flush=True)


def sink_drain(events: int) -> dict:
    """The sink alone draining a pre-filled topic into a scratch database; peak RSS sampled."""
    run = uuid.uuid4().hex[:8]
    topic, database = f"bench.drain.{run}", "warehouse_bench"
    prefix = f"SD{run}"
    migrated_scratch(database)
    url = database_url("warehouse", SINK.name, database)
    fill_topic(topic, events, prefix)
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "connectors.sink", "--source", "store", "--target", "warehouse"],
        env=os.environ
        | {
            "SINK_TOPIC": topic,
            # this stack's Kafka, as the admin: a scratch group no job principal may use
            **kafka.env(),
            "SINK_GROUP_ID": f"bench-{run}",
            "SINK_DATABASE_URL": url,
            "SINK_METRICS_PORT": str(port),
        },
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        # another checkout's sink, for an A/B of two commits on the same data (bench/README.md)
        cwd=os.environ.get("BENCH_SINK_ROOT", ROOT),
    )
    peak, first, done = 0, None, None
    meter = cost.Meter({"sink": process.pid, "warehouse_db": cost.stack_pids()["warehouse_db"]})
    try:
        sampled = psutil.Process(process.pid)
        deadline = time.monotonic() + 600
        while time.monotonic() < deadline and done is None:
            if process.poll() is not None:
                raise RuntimeError(f"the sink exited with {process.returncode} while draining")
            peak = max(peak, sampled.memory_info().rss)
            count = handled(port)
            if count and first is None:
                first = time.monotonic()
                meter.start()  # from the first event, as the JDBC sink's: not Python's start
            if count >= events:
                done = time.monotonic()
                meter.stop()
            time.sleep(0.05)  # sampling interval of RSS and progress
    finally:
        process.terminate()
        process.wait(30)
    target = connect("warehouse", database)
    with target.cursor() as cur:
        cur.execute("TRUNCATE warehouse_order")
    target.close()
    forget_scratch([topic, f"{topic}.dlq", f"{topic}.replay"], f"bench-{run}")
    if done is None:
        raise TimeoutError("the sink did not drain the topic in 600 s")
    return cost.drain_result(events, first, done, peak, meter.used)


def jdbc_drain(events: int, batch_size: int | None = None) -> dict:
    """Debezium's JDBC sink applying the same kind of events to a scratch database."""
    run = uuid.uuid4().hex[:8]
    topic = f"bench.jdbc.{run}"
    fill_topic(topic, events, f"JD{run}", schemas=True)
    try:
        result = jdbc.drain(topic, f"jdbc_{run}", events, batch_size)
    finally:
        forget_scratch([topic], jdbc.group(f"jdbc_{run}"))
    return result | {"batch_size": batch_size or "default"}


def handled(port: int) -> int:
    """Events the sink has counted so far, read from its metrics."""
    try:
        text = requests.get(f"http://127.0.0.1:{port}/metrics", timeout=2).text
    except requests.RequestException:
        return 0
    return int(metric_totals(text).get("sink_events_total", 0))


def api_throughput(seconds: int, connections: int = 8) -> dict:
    """wrk creating orders on the Store API (2 server workers)."""
    if shutil.which("wrk") is None:
        return {"skipped": "wrk is not installed (apt-get install wrk)"}
    script = ROOT / "bench" / "create_order.lua"
    token = Tokens.headers("store")["Authorization"]
    store, warehouse = connect("store"), connect("warehouse")
    count = "SELECT count(*) FROM {} WHERE order_number LIKE 'WRK-%%'"
    earlier = scalar(store, count.format("store_order"))
    meter = cost.Meter(exclude=cost.sessions(store=store, warehouse=warehouse)).start()
    result = subprocess.run(
        [
            "wrk",
            "-t2",
            f"-c{connections}",
            f"-d{seconds}s",
            "--latency",
            "-s",
            str(script),
            topology.app_url("store") + PATHS["store"],
        ],
        env=os.environ | {"WRK_AUTH": token},
        capture_output=True,
        text=True,
        timeout=seconds + 60,
    )
    line = next(x for x in result.stdout.splitlines() if x.startswith("JSON "))
    figures = json.loads(line[5:])
    # requests still in flight when wrk stopped commit later: let them all reach the warehouse
    wait_until(
        lambda: (
            scalar(store, count.format("store_order"))
            == scalar(warehouse, count.format("warehouse_order"))
        ),
        120,
        "wrk rows synced",
    )
    used = meter.stop()
    created = scalar(store, count.format("store_order")) - earlier
    figures["cpu_ms_per_write"] = cost.per_write(used, created)
    store.close()
    warehouse.close()
    retire("store", "WRK")
    return figures
