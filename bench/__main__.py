"""`python -m bench`: measure the pipeline and native logical replication in one run.

Needs the running stack (`make bench` starts it). Sizes come from the environment:
BENCH_SECONDS (60), BENCH_RATE (200), BENCH_ROWS (100000), BENCH_EVENTS (100000),
BENCH_API_SECONDS (20), BENCH_RESULTS (bench/results).
"""

import os
import sys
import time
from pathlib import Path

from bench import report, scenarios
from stack import topology


def number(name: str, default: float) -> float:
    """A size from the environment."""
    return float(os.environ.get(name, default))


def main() -> int:
    """Run every scenario in turn, print the table, save JSON and the plot."""
    seconds, rate = number("BENCH_SECONDS", 60), number("BENCH_RATE", 200)
    rows, events = int(number("BENCH_ROWS", 100_000)), int(number("BENCH_EVENTS", 100_000))
    out = Path(os.environ.get("BENCH_RESULTS", topology.ROOT / "bench" / "results"))
    plan = [
        ("latency_store_to_warehouse", lambda: scenarios.pipeline_latency("store", rate, seconds)),
        (
            "latency_warehouse_to_store",
            lambda: scenarios.pipeline_latency("warehouse", rate, seconds),
        ),
        ("native_latency", lambda: scenarios.native_latency(rate, seconds)),
        ("backlog", lambda: scenarios.backlog(rows)),
        ("native_backlog", lambda: scenarios.native_backlog(rows)),
        ("drain", lambda: scenarios.sink_drain(events)),
        ("api", lambda: scenarios.api_throughput(int(number("BENCH_API_SECONDS", 20)))),
    ]
    results = {}
    for name, run in plan:
        started = time.monotonic()
        print(f"[bench] {name} ...", flush=True)
        results[name] = run()
        shown = {k: v for k, v in results[name].items() if k != "samples"}
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
