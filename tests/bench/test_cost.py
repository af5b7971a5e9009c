"""The bench's cost arithmetic: CPU of process trees, per write, medians of runs, the knee."""

import os
import subprocess
import sys

from bench import cost
from bench.repeat import summarise
from bench.scenarios import kept_up, knee

BURN = "import time\nend = time.process_time() + 0.3\nwhile time.process_time() < end: pass"


def test_a_tree_counts_children_that_already_exited():
    before = cost.tree_seconds(os.getpid())
    subprocess.run([sys.executable, "-c", BURN], check=True)  # reaped: in our cutime now
    assert cost.tree_seconds(os.getpid()) - before >= 0.25


def test_a_meter_subtracts_excluded_processes():
    script = BURN + "\nprint('burnt', flush=True)\ninput()"
    child = subprocess.Popen(
        [sys.executable, "-c", script], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    try:
        whole = cost.Meter({"me": os.getpid()}).start()
        without = cost.Meter({"me": os.getpid()}, {"me": [child.pid]}).start()
        assert child.stdout.readline() == "burnt\n"  # blocks without spending our CPU
        whole.stop()
        without.stop()
    finally:
        child.communicate("\n")
    assert whole.used["me"] >= 0.2
    assert without.used["me"] < 0.1


def test_cost_per_write_and_share_of_core():
    assert cost.per_write({"a": 1.0, "b": 0.5}, 500) == {
        "total": 3.0,
        "components": {"a": 2.0, "b": 1.0},
    }
    assert cost.per_write({"a": 1.0}, 0) == {}
    share = cost.share_of_core({"a": 0.5, "b": 0.1}, 10)
    assert share == {"total_pct": 6.0, "components_pct": {"a": 5.0, "b": 1.0}}


def test_summary_keeps_the_median_run_and_the_ranges():
    runs = [
        {"rows_per_s": r, "cpu_ms_per_write": {"total": c, "components": {"x": c}}}
        for r, c in ((300, 3.0), (100, 1.0), (200, 5.0))
    ]
    summary = summarise(runs)
    assert summary["rows_per_s"] == 200 and summary["range"] == [100, 300]
    assert summary["cpu_ms_per_write"]["total"] == 3.0
    assert summary["cpu_ms_per_write"]["range"] == [1.0, 5.0]
    assert summary["runs"] == 3 and len(summary["every_run"]) == 3


def test_the_knee_is_the_last_rate_held_under_100_ms():
    steps = [
        {"rate": 50, "p99_ms": 40, "kept_up": True},
        {"rate": 100, "p99_ms": 90, "kept_up": True},
        {"rate": 200, "p99_ms": 150, "kept_up": True},
        {"rate": 400, "p99_ms": 60, "kept_up": False},
    ]
    assert knee(steps) == 100
    assert knee([{"rate": 50, "p99_ms": 120, "kept_up": True}]) is None


def test_a_step_that_falls_behind_did_not_keep_up():
    assert kept_up(200, 15, writes=3000, wrote=15.2, caught_up=0.5)
    assert not kept_up(200, 15, writes=3000, wrote=19.0, caught_up=0.5)  # the writer was late
    assert not kept_up(200, 15, writes=3000, wrote=15.2, caught_up=5.0)  # the lag piled up
    assert not kept_up(200, 15, writes=2400, wrote=15.2, caught_up=0.5)  # gave up, or failed


def test_a_target_against_an_anchor_not_run_gets_no_verdict():
    """Backlog and drain compare with native replication and the JDBC sink of the same run."""
    from bench.report import throughput_rows

    results = {
        "backlog": {"rows": 10, "rows_per_s": 9_000},
        "drain": {"events": 10, "events_per_s": 30_000, "peak_rss_mb": 80},
    }
    assert [row[-1] for row in throughput_rows(results)] == [None, None]
    results["native_backlog"] = {"rows_per_s": 40_000}
    results["jdbc_drain"] = {"events_per_s": 20_000, "batch_size": 3000, "peak_rss_mb": 300}
    assert [row[-1] for row in throughput_rows(results)] == [True, True]
    results["jdbc_drain"]["events_per_s"] = 40_000
    assert [row[-1] for row in throughput_rows(results)] == [True, False]
