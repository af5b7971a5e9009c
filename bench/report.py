"""Turn benchmark figures into the printed table, the JSON record and the latency plot."""

import json
import os
import platform
from datetime import UTC, datetime
from pathlib import Path

import psutil

TARGETS = {
    "latency": "p50 ≤ 25 ms, p99 ≤ 100 ms",
    "backlog": "≥ 10,000 rows/s",
    "drain": "≥ 20,000 events/s, RSS ≤ 150 MB",
    "api": "≥ 500 req/s, p99 ≤ 50 ms",
}


def machine() -> dict:
    """What the figures were measured on."""
    cpu = "unknown"
    if Path("/proc/cpuinfo").exists():
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    return {
        "cores": os.cpu_count(),
        "memory_gb": round(psutil.virtual_memory().total / 2**30),
        "cpu": cpu,
        "python": platform.python_version(),
        "kernel": platform.release(),
    }


def ratio(ours: float, theirs: float) -> str:
    """ours/theirs as '1.23×'."""
    return f"{ours / theirs:.2f}×" if theirs else "-"


def rows(results: dict) -> list[tuple]:
    """(scenario, project, native, ratio, target, met) rows of the table."""
    out = []
    native = results.get("native_latency", {}).get("latency", {})
    for key, label in (
        ("latency_store_to_warehouse", "Store→Warehouse latency"),
        ("latency_warehouse_to_store", "Warehouse→Store latency"),
    ):
        if key in results:
            lat = results[key]["latency"]
            met = lat["p50_ms"] <= 25 and lat["p99_ms"] <= 100
            out.append(
                (
                    f"{label} @ {results[key]['rate']:.0f}/s",
                    f"p50 {lat['p50_ms']} ms, p99 {lat['p99_ms']} ms",
                    f"p50 {native.get('p50_ms')} ms, p99 {native.get('p99_ms')} ms",
                    ratio(lat["p99_ms"], native.get("p99_ms", 0)) + " (p99)",
                    TARGETS["latency"],
                    met,
                )
            )
    if "backlog" in results:
        ours, theirs = results["backlog"], results.get("native_backlog", {})
        out.append(
            (
                f"backlog {ours['rows']:,} rows (SQL, 1,000/tx)",
                f"{ours['rows_per_s']:,} rows/s",
                f"{theirs.get('rows_per_s', 0):,} rows/s",
                ratio(ours["rows_per_s"], theirs.get("rows_per_s", 0)),
                TARGETS["backlog"],
                ours["rows_per_s"] >= 10_000,
            )
        )
    if "drain" in results:
        d = results["drain"]
        out.append(
            (
                f"sink drain {d['events']:,} events",
                f"{d['events_per_s']:,} events/s, peak RSS {d['peak_rss_mb']} MB",
                "JDBC sink: not resolvable",
                "-",
                TARGETS["drain"],
                d["events_per_s"] >= 20_000 and d["peak_rss_mb"] <= 150,
            )
        )
    if "api" in results and "skipped" in results["api"]:
        out.append(
            (
                "API create order (2 workers)",
                results["api"]["skipped"],
                "-",
                "-",
                TARGETS["api"],
                False,
            )
        )
    elif "api" in results:
        a = results["api"]
        out.append(
            (
                "API create order (2 workers)",
                f"{a['req_per_s']:.0f} req/s, p99 {a['p99_ms']} ms",
                "-",
                "-",
                TARGETS["api"],
                a["req_per_s"] >= 500 and a["p99_ms"] <= 50 and a["errors"] == 0,
            )
        )
    return out


def table(results: dict) -> str:
    """A Markdown table of the run."""
    lines = [
        "| scenario | this project | native logical replication | ratio | target | met |",
        "|---|---|---|---|---|---|",
    ]
    for scenario, ours, theirs, rel, target, met in rows(results):
        lines.append(
            f"| {scenario} | {ours} | {theirs} | {rel} | {target} | {'yes' if met else '**no**'} |"
        )
    return "\n".join(lines)


def save(results: dict, directory: Path) -> Path:
    """Write the run (without raw samples) as JSON, and latest.json beside it."""
    directory.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    record = {
        "date": stamp,
        "machine": machine(),
        "results": strip_samples(results),
        "table": table(results),
    }
    path = directory / f"bench-{stamp}.json"
    path.write_text(json.dumps(record, indent=2) + "\n")
    (directory / "latest.json").write_text(json.dumps(record, indent=2) + "\n")
    return path


def strip_samples(results: dict) -> dict:
    """Drop the raw latency samples from the record."""
    return {k: {kk: vv for kk, vv in v.items() if kk != "samples"} for k, v in results.items()}


def plot(results: dict, path: Path) -> None:
    """Draw the latency distributions (CDF) of both directions and native replication."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(8, 4.5))
    for key, label in (
        ("latency_store_to_warehouse", "Store → Warehouse (this project)"),
        ("latency_warehouse_to_store", "Warehouse → Store (this project)"),
        ("native_latency", "native logical replication"),
    ):
        samples = sorted(s * 1000 for s in results.get(key, {}).get("samples", []))
        if samples:
            ax.plot(samples, [(i + 1) / len(samples) for i in range(len(samples))], label=label)
    ax.set_xscale("log")
    ax.set_xlabel("commit → visible on the other side (ms, log scale)")
    ax.set_ylabel("fraction of writes")
    ax.axvline(25, color="grey", linestyle=":", linewidth=1)
    ax.axvline(100, color="grey", linestyle="--", linewidth=1)
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(loc="lower right")
    ax.set_title("Replication latency distribution")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
