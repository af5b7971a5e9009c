"""`python -m bench` runs end to end at toy sizes (its figures are printed, never asserted)."""

import json
import os
import subprocess
import sys

import pytest

from stack import topology

SIZES = {
    "BENCH_RUNS": "1",
    "BENCH_SECONDS": "2",
    "BENCH_RATE": "50",
    "BENCH_CURVE_RATES": "50",
    "BENCH_CURVE_SECONDS": "1",
    "BENCH_IDLE_SECONDS": "1",
    "BENCH_SETTLE_SECONDS": "0",  # the settling loop has its own tests (test_settle.py)
    "BENCH_REQUESTS": "5",
    "BENCH_ROWS": "2000",
    "BENCH_EVENTS": "2000",
    "BENCH_API_SECONDS": "2",
    "BENCH_WARMUP_SECONDS": "1",
    "BENCH_JDBC_BATCH": "1000",
    # one JVM start for the JDBC anchor is enough here: the default batch only differs in size
    "BENCH_SKIP": "jdbc_drain",
}


# the run's own 600 s bound decides, not pytest's 300 s default; a timeout shows its output
@pytest.mark.timeout(660)
def test_bench_produces_a_table_json_and_plot(stack, tmp_path):
    try:
        result = subprocess.run(
            [sys.executable, "-m", "bench"],
            cwd=topology.ROOT,
            capture_output=True,
            text=True,
            env=os.environ | SIZES | {"BENCH_RESULTS": str(tmp_path)},
            timeout=600,
        )
    except subprocess.TimeoutExpired as error:
        shown = error.stdout.decode() if isinstance(error.stdout, bytes) else error.stdout or ""
        pytest.fail(f"python -m bench did not finish in 600 s; it printed:\n{shown[-3000:]}")
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    header = "| scenario | this project | CPU-ms/write | native logical replication |"
    assert header in result.stdout
    assert result.stdout.count("[bench] warm-up ...") == 1  # once, before the first scenario
    record = json.loads((tmp_path / "latest.json").read_text())
    results = record["results"]
    for name in ("latency_store_to_warehouse", "latency_warehouse_to_store", "native_latency"):
        assert results[name]["latency"]["n"] == 100, name
    assert results["backlog"]["rows"] == 2000 and results["native_backlog"]["rows_per_s"] > 0
    assert results["drain"]["events"] == 2000 and results["drain"]["peak_rss_mb"] > 0
    # the cost of every scenario is read from /proc, per component of the stack
    apply = results["latency_store_to_warehouse"]["cpu_ms_per_write"]["components"]
    assert apply["sink_to_warehouse"] > 0 and apply["store_app"] > 0, apply
    assert "supervisord" in apply, apply  # the log shipping of the native stack is billed too
    # native replication's own workers, counted apart (2,000 rows may cost under one 10 ms tick)
    native = results["native_backlog"]["cpu_ms_per_write"]
    assert set(native["components"]) == {"native_walsender", "native_apply"}, native
    assert native["total"] >= 0
    # and the same rows into a table of store_order's shape, shown beside the backlog
    like = results["native_backlog_orders"]
    assert like["rows"] == 2000 and set(like["cpu_ms_per_write"]["components"]) == set(
        native["components"]
    )
    assert "backlog, beside native replication of the same rows" in result.stdout
    assert results["idle"]["components_pct"]["connect"] > 0
    assert results["idle_settled"]["rested_s"] == 0 and results["idle_settled"]["total_pct"] > 0
    assert "Idle stack, still settling (after 0 s at rest)" in result.stdout  # no rest allowed
    assert results["single_requests"]["floor"]["create"]["p50_ms"] > 0
    assert [s["rate"] for s in results["curve"]["native"]["steps"]] == [50]
    assert results["jdbc_drain_tuned"]["events"] == 2000
    assert record["machine"]["cores"] == os.cpu_count()
    assert (tmp_path / "latest.png").stat().st_size > 10_000
