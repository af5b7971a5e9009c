"""Turn benchmark figures into the printed table, the JSON record and the latency plot.

`python -m bench.report [RESULTS.json]` prints README's benchmark block from a saved run
(bench/results/latest.json by default): date, machine, native calibration, the tables.
"""

import json
import os
import platform
import sys
from datetime import UTC, datetime
from pathlib import Path

import psutil

TARGETS = {
    "latency": "p50 ≤ 25 ms, p99 ≤ 100 ms",
    "backlog": "≥ 0.2× native",
    "drain": "≥ 1.0× JDBC sink, RSS ≤ 150 MB",
    "api": "p99 ≤ 50 ms (≥ 2× before: A/B)",
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


def cpu(result: dict) -> str:
    """A scenario's median CPU-ms per synced write and its range over the runs."""
    c = result.get("cpu_ms_per_write") or {}
    if "total" not in c:
        return "-"
    low, high = c.get("range", [c["total"], c["total"]])
    return f"{c['total']:.2f} ({low:.2f}–{high:.2f})"


def spread(result: dict) -> str:
    """' (range a–b, n runs)' of a repeated scenario's headline, or nothing."""
    if result.get("runs", 1) < 2:
        return ""
    low, high = result["range"]
    return f" (range {low:,.0f}–{high:,.0f}, {result['runs']} runs)"


def latency_rows(results: dict) -> list[tuple]:
    """Rows of both paced latency scenarios."""
    out = []
    native = results.get("native_latency", {})
    theirs = native.get("latency", {})
    for key, label in (
        ("latency_store_to_warehouse", "Store→Warehouse latency"),
        ("latency_warehouse_to_store", "Warehouse→Store latency"),
    ):
        if key not in results:
            continue
        r = results[key]
        lat = r["latency"]
        out.append(
            (
                f"{label} @ {r['rate']:.0f}/s",
                f"p50 {lat['p50_ms']} ms, p99 {lat['p99_ms']} ms",
                cpu(r),
                f"p50 {theirs.get('p50_ms')} ms, p99 {theirs.get('p99_ms')} ms",
                cpu(native),
                ratio(lat["p99_ms"], theirs.get("p99_ms", 0)) + " (p99)",
                TARGETS["latency"],
                lat["p50_ms"] <= 25 and lat["p99_ms"] <= 100,
            )
        )
    return out


def throughput_rows(results: dict) -> list[tuple]:
    """Rows of the backlog, the drain and the API."""
    out = []
    if "backlog" in results:
        ours, theirs = results["backlog"], results.get("native_backlog", {})
        out.append(
            (
                f"backlog {ours['rows']:,} rows (SQL, 1,000/tx)",
                f"{ours['rows_per_s']:,} rows/s{spread(ours)}",
                cpu(ours),
                f"{theirs.get('rows_per_s', 0):,} rows/s",
                cpu(theirs),
                ratio(ours["rows_per_s"], theirs.get("rows_per_s", 0)),
                TARGETS["backlog"],
                # no native run, no verdict: a target is judged against a figure of the same run
                ours["rows_per_s"] >= 0.2 * theirs["rows_per_s"] if theirs else None,
            )
        )
    if "backlog" in results and "native_backlog_orders" in results:
        ours, theirs = results["backlog"], results["native_backlog_orders"]
        out.append(
            (
                "backlog, beside native replication of the same rows",
                f"{ours['rows_per_s']:,} rows/s",
                cpu(ours),
                f"{theirs['rows_per_s']:,} rows/s into store_order's shape",
                cpu(theirs),
                ratio(ours["rows_per_s"], theirs["rows_per_s"]),
                "reference (the target is the row above)",
                None,
            )
        )
    if "drain" in results:
        d = results["drain"]
        anchors = [results.get(k, {}) for k in ("jdbc_drain", "jdbc_drain_tuned")]
        jdbc = max(anchors, key=lambda a: a.get("events_per_s", 0))
        out.append(
            (
                f"sink drain {d['events']:,} events",
                f"{d['events_per_s']:,} events/s{spread(d)}, peak RSS {d['peak_rss_mb']} MB",
                cpu(d),
                (
                    f"JDBC sink (batch {jdbc['batch_size']}): {jdbc['events_per_s']:,} events/s"
                    f", peak RSS {jdbc['peak_rss_mb']} MB"
                )
                if jdbc
                else "JDBC sink: not run",
                cpu(jdbc) if jdbc else "-",
                ratio(d["events_per_s"], jdbc.get("events_per_s", 0)) if jdbc else "-",
                TARGETS["drain"],
                (d["peak_rss_mb"] <= 150 and d["events_per_s"] >= jdbc["events_per_s"])
                if jdbc
                else None,
            )
        )
    if "api" in results:
        a = results["api"]
        shown = a.get("skipped") or f"{a['req_per_s']:.0f} req/s{spread(a)}, p99 {a['p99_ms']} ms"
        met = "skipped" not in a and a["p99_ms"] <= 50 and a["errors"] == 0
        label = "API create order (2 workers, 8 conn.)"
        out.append((label, shown, cpu(a), "-", "-", "-", TARGETS["api"], met))
    return out


def verdict(met: bool | None) -> str:
    """A target's cell: yes, no, or - when what it is judged against was not run."""
    return "-" if met is None else "yes" if met else "**no**"


def table(results: dict) -> str:
    """A Markdown table of the run, and the cost tables after it."""
    lines = [
        "| scenario | this project | CPU-ms/write | native logical replication"
        " | native CPU-ms/write | ratio | target | met |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for scenario, ours, cost, theirs, their_cost, rel, target, met in latency_rows(
        results
    ) + throughput_rows(results):
        lines.append(
            f"| {scenario} | {ours} | {cost} | {theirs} | {their_cost} | {rel} | {target}"
            f" | {verdict(met)} |"
        )
    return "\n\n".join(
        part
        for part in ("\n".join(lines), components(results), rest(results), curve(results))
        if part
    )


def components(results: dict) -> str:
    """CPU-ms per synced write of each component, per scenario (medians over the runs)."""
    costed = {k: v["cpu_ms_per_write"] for k, v in results.items() if v.get("cpu_ms_per_write")}
    if not costed:
        return ""
    names = sorted({n for c in costed.values() for n in c.get("components", {})})
    lines = [
        "| CPU-ms per write | total | " + " | ".join(names) + " |",
        "|---|---|" + "---|" * len(names),
    ]
    for scenario, c in costed.items():
        parts = c.get("components", {})
        lines.append(
            f"| {scenario} | {c['total']:.2f} | "
            + " | ".join(f"{parts[n]:.2f}" if n in parts else "" for n in names)
            + " |"
        )
    return "\n".join(lines)


def rollout_line(r: dict) -> str:
    """A synced field rolled out side by side under writes: each direction's worst stall."""
    directions = [k for k in r if k.endswith("_to_store") or k.endswith("_to_warehouse")]
    parts = "; ".join(
        f"{d.replace('_to_', '→')}: quiet p50 {r[d]['quiet'].get('p50_ms')} ms, worst during"
        f" the store's step {r[d]['store_step_max_ms']} ms, the warehouse's"
        f" {r[d]['warehouse_step_max_ms']} ms"
        for d in directions
    )
    steps = ", ".join(f"{side} {s:.2f} s" for side, s in r["step_seconds"].items())
    return (
        f"Rollout of a synced field at {r['rate']:g} writes/s each way (steps took {steps}):"
        f" {parts}."
    )


def rest(results: dict) -> str:
    """Idle CPU per component, and single requests beside the floor."""
    lines = []
    for key, label in (
        ("idle", "Idle stack, right after the warm-up"),
        ("idle_settled", "Idle stack, settled"),
    ):
        if key in results:
            i = results[key]
            parts = ", ".join(f"{k} {v:.1f} %" for k, v in i["components_pct"].items() if v >= 0.05)
            if "rested_s" in i:
                # within BENCH_SETTLE_SECONDS or not: a figure still falling is said to be
                label = label if i.get("settled") else "Idle stack, still settling"
                label += f" (after {i['rested_s']:.0f} s at rest)"
            lines.append(
                f"{label}: {i['total_pct']:.1f} % of one core{spread_pct(i)} ({parts});"
                f" target ≤ 5 %: {'met' if i['total_pct'] <= 5 else '**not met**'}."
            )
    if "rollout_stall" in results:
        lines.append(rollout_line(results["rollout_stall"]))
    if "single_requests" in results:
        r = results["single_requests"]
        api, floor = r["api"], r["floor"]
        shown = ", ".join(f"{k} {v['p50_ms']} ms ({v['cpu_ms']} CPU-ms)" for k, v in api.items())
        lines.append(
            f"Single requests on an idle stack, p50 of {r['requests']}: {shown}; bare Flask +"
            f" psycopg2 insert {floor['create']['p50_ms']} ms ({floor['create']['cpu_ms']}"
            f" CPU-ms), healthz {floor['healthz']['p50_ms']} ms; create = {r['create_vs_floor']}×"
            f" the floor (target ≤ 2×: {'met' if r['create_vs_floor'] <= 2 else '**not met**'})."
        )
    return "\n\n".join(lines)


def spread_pct(result: dict) -> str:
    """' (range a–b %)' of a repeated percentage."""
    if result.get("runs", 1) < 2:
        return ""
    low, high = result["range"]
    return f" (range {low:.1f}–{high:.1f})"


def curve(results: dict) -> str:
    """The latency curve: p50/p99 per rate and direction, and each direction's knee."""
    if "curve" not in results:
        return ""
    c = results["curve"]
    names = list(c)
    rates = sorted({s["rate"] for v in c.values() for s in v["steps"]})
    lines = [
        "| writes/s | " + " | ".join(names) + " |",
        "|---|" + "---|" * len(names),
    ]
    for rate in rates:
        cells = []
        for name in names:
            step = next((s for s in c[name]["steps"] if s["rate"] == rate), None)
            cells.append(
                "-"
                if step is None
                else f"{step['p50_ms']} / {step['p99_ms']} ms" + ("" if step["kept_up"] else " ✗")
            )
        lines.append(f"| {rate:g} | " + " | ".join(cells) + " |")
    lines.append("| knee (p99 < 100 ms) | " + " | ".join(f"{c[n]['knee']}" for n in names) + " |")
    return "\n".join(lines)


def save(results: dict, directory: Path) -> Path:
    """Write the run (without raw samples) as JSON, and latest.json beside it."""
    directory.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    record = {
        "date": stamp,
        "machine": machine(),
        "calibration": calibration(results),
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


def calibration(results: dict) -> dict:
    """Native logical replication's figures of the run: divide by them to compare days."""
    native = results.get("native_backlog", {})
    return {
        "native_backlog_rows_per_s": native.get("rows_per_s"),
        "native_cpu_ms_per_row": (native.get("cpu_ms_per_write") or {}).get("total"),
    }


def plot(results: dict, path: Path) -> None:
    """Draw the latency distributions (CDF) at the paced rate, and the latency curve by rate."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (left, right) = plt.subplots(1, 2, figsize=(13, 4.8))
    distributions(left, results)
    rate_curve(right, results.get("curve", {}))
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


LABELS = {
    "store_to_warehouse": "Store → Warehouse (this project)",
    "warehouse_to_store": "Warehouse → Store (this project)",
    "native": "native logical replication",
}


def distributions(ax, results: dict) -> None:
    """CDF of each direction's and native replication's latency at the paced rate."""
    for key, name in (
        ("latency_store_to_warehouse", "store_to_warehouse"),
        ("latency_warehouse_to_store", "warehouse_to_store"),
        ("native_latency", "native"),
    ):
        samples = sorted(s * 1000 for s in results.get(key, {}).get("samples", []))
        if samples:
            fraction = [(i + 1) / len(samples) for i in range(len(samples))]
            ax.plot(samples, fraction, label=LABELS[name])
    ax.set_xscale("log")
    ax.set_xlabel("commit → visible on the other side (ms, log scale)")
    ax.set_ylabel("fraction of writes")
    ax.axvline(25, color="grey", linestyle=":", linewidth=1)
    ax.axvline(100, color="grey", linestyle="--", linewidth=1)
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(loc="lower right")
    ax.set_title("Latency distribution at the paced rate")


def rate_curve(ax, curve: dict) -> None:
    """p50 (dashed) and p99 (solid) latency against the write rate; ✗ marks a missed step."""
    for index, (name, data) in enumerate(curve.items()):
        color = f"C{index}"
        steps = data["steps"]
        rates = [s["rate"] for s in steps]
        ax.plot(rates, [s["p99_ms"] for s in steps], "o-", color=color, label=f"{LABELS[name]} p99")
        ax.plot(rates, [s["p50_ms"] for s in steps], "o--", color=color, alpha=0.6)
        missed = [s for s in steps if not s["kept_up"]]
        ax.plot([s["rate"] for s in missed], [s["p99_ms"] for s in missed], "x", color="red")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.axhline(100, color="grey", linestyle="--", linewidth=1)
    ax.set_xlabel("writes per second (log scale)")
    ax.set_ylabel("latency ms (log scale): p99 solid, p50 dashed")
    ax.grid(True, which="both", alpha=0.3)
    if curve:
        ax.legend(loc="upper left", fontsize="small")
    ax.set_title("Latency by rate (red ✗: could not keep up)")


def readme_block(record: dict) -> str:
    """README's benchmark section body for one saved run."""
    m, c = record["machine"], record.get("calibration", {})
    stamp = datetime.strptime(record["date"], "%Y%m%dT%H%M%SZ").strftime("%Y-%m-%d %H:%M UTC")
    head = (
        f"Run of {stamp} on {m['cores']} cores / {m['memory_gb']} GiB ({m['cpu']}, Python"
        f" {m['python']}). Calibration (native logical replication in the same run):"
        f" {c.get('native_backlog_rows_per_s') or '-'} rows/s,"
        f" {c.get('native_cpu_ms_per_row') or '-'} CPU-ms per row; compare runs of other days"
        " as ratios to it."
    )
    # rendered again from the figures, so a saved run reads by the current rules
    return head + "\n\n" + table(record["results"])


if __name__ == "__main__":
    source = Path(sys.argv[1] if sys.argv[1:] else Path(__file__).parent / "results/latest.json")
    print(readme_block(json.loads(source.read_text())))
