"""`python -m bench`: measure the pipeline's speed and cost beside native logical replication.

Needs the running stack (`make bench` starts it). Sizes come from the environment:
BENCH_RUNS (3) runs of each scenario, median and range reported; BENCH_SECONDS (20) and
BENCH_RATE (200) of the paced latency runs; BENCH_CURVE_RATES ("50,100,200,400,800") and
BENCH_CURVE_SECONDS (15) of the latency curve (one run a step); BENCH_IDLE_SECONDS (60) of
idle CPU, split over the runs, and BENCH_SETTLE_SECONDS (300) at most of rest per run before
the settled idle figure; BENCH_REQUESTS (200) single requests of each kind;
BENCH_ROWS (100000), BENCH_EVENTS (100000), BENCH_JDBC_BATCH (4000) of the tuned JDBC sink,
BENCH_API_SECONDS (20); BENCH_ROLLOUT_RATE (50) writes/s each way for BENCH_ROLLOUT_SECONDS
(30) while a synced field is rolled out side by side; BENCH_WARMUP_SECONDS (120) of unmeasured
writes each way before the first scenario on the stack's pipeline (0: none); BENCH_RESULTS
(bench/results); BENCH_ONLY and BENCH_SKIP, comma-separated scenario names to run alone or
to leave out. Every size is checked before anything runs (bench/sizes.py): a value that is no
finite number ≥ 0 (BENCH_RUNS ≥ 1) exits 1 naming the variable.
"""

import os
import sys
import time
from pathlib import Path

from bench import report, rollout, scenarios, single
from bench.repeat import repeated
from bench.sizes import number, numbers
from stack import topology

# scenarios that do not run through the stack's apps, Connect and sinks: no warm-up for them
OFF_PIPELINE = {
    "native_latency",
    "native_backlog",
    "native_backlog_orders",
    "drain",
    "jdbc_drain",
    "jdbc_drain_tuned",
}


def plan() -> list[tuple[str, object]]:
    """(name, run) of every scenario, each run already repeated BENCH_RUNS times."""
    runs = int(number("BENCH_RUNS", 3, low=1))
    seconds, rate = number("BENCH_SECONDS", 20), number("BENCH_RATE", 200)
    rows, events = int(number("BENCH_ROWS", 100_000)), int(number("BENCH_EVENTS", 100_000))
    rates = numbers("BENCH_CURVE_RATES", "50,100,200,400,800")
    idle_seconds = number("BENCH_IDLE_SECONDS", 60) / runs
    settle_seconds = number("BENCH_SETTLE_SECONDS", 300)
    requests = int(number("BENCH_REQUESTS", 200))
    api_seconds = int(number("BENCH_API_SECONDS", 20))
    jdbc_batch = int(number("BENCH_JDBC_BATCH", 4000))
    rollout_rate = number("BENCH_ROLLOUT_RATE", 50)
    rollout_seconds = number("BENCH_ROLLOUT_SECONDS", 30)

    def times(run):
        return lambda: repeated(run, runs)

    def latency(source):
        return times(lambda: scenarios.pipeline_latency(source, rate, seconds))

    return [
        # at rest first: nothing of a later scenario is still draining
        ("idle", times(lambda: scenarios.idle(idle_seconds))),
        # and once the load before it (the warm-up's) has wound down: the stack at rest for good
        ("idle_settled", times(lambda: scenarios.idle_settled(idle_seconds, settle_seconds))),
        ("single_requests", times(lambda: single.single_requests(requests))),
        ("latency_store_to_warehouse", latency("store")),
        ("latency_warehouse_to_store", latency("warehouse")),
        ("native_latency", times(lambda: scenarios.native_latency(rate, seconds))),
        ("curve", lambda: scenarios.curve(rates, number("BENCH_CURVE_SECONDS", 15))),
        ("backlog", times(lambda: scenarios.backlog(rows))),
        ("native_backlog", times(lambda: scenarios.native_backlog(rows))),
        # the same rows into a table of store_order's shape: what the narrow table leaves out
        ("native_backlog_orders", times(lambda: scenarios.native_backlog(rows, shape="orders"))),
        ("drain", times(lambda: scenarios.sink_drain(events))),
        # the default batch once: it only shows what the tuned batch bought
        ("jdbc_drain", lambda: repeated(lambda: scenarios.jdbc_drain(events), 1)),
        ("jdbc_drain_tuned", times(lambda: scenarios.jdbc_drain(events, jdbc_batch))),
        ("api", times(lambda: scenarios.api_throughput(api_seconds))),
        ("rollout_stall", times(lambda: rollout.rollout_stall(rollout_rate, rollout_seconds))),
    ]


def main() -> int:
    """Run every scenario in turn, print the table, save JSON and the plot."""
    out = Path(os.environ.get("BENCH_RESULTS", topology.ROOT / "bench" / "results"))
    only = set(filter(None, os.environ.get("BENCH_ONLY", "").split(",")))
    skip = set(filter(None, os.environ.get("BENCH_SKIP", "").split(",")))
    results, warm_up = {}, number("BENCH_WARMUP_SECONDS", 120)
    for name, run in plan():
        if (only and name not in only) or name in skip:
            continue
        if warm_up > 0 and name not in OFF_PIPELINE:
            print("[bench] warm-up ...", flush=True)
            scenarios.warm_up(number("BENCH_RATE", 200), warm_up)
            warm_up = 0  # once, before the first scenario through the pipeline
        started = time.monotonic()
        print(f"[bench] {name} ...", flush=True)
        results[name] = run()
        shown = {k: v for k, v in results[name].items() if k not in ("samples", "every_run")}
        print(f"[bench] {name} done in {time.monotonic() - started:.0f}s: {shown}", flush=True)
    path = report.save(results, out)
    png = path.with_suffix(".png")
    report.plot(results, png)
    report.plot(results, out / "latest.png")
    print(report.table(results))
    print(f"[bench] results: {path}\n[bench] plot: {png}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
