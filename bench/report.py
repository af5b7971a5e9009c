"""Turn benchmark figures into tables, the JSON record, the latency plot and the performance page.

`python -m bench.report` writes docs/performance.md from what bench/results keeps (the latest
run, the A/B, failover, outage and scale summaries) and bench/tried.md; `python -m bench.report
RUN.json` prints one saved run's tables instead.
"""

import json
import os
import platform
import sys
from datetime import UTC, datetime
from pathlib import Path

import psutil

BENCH = Path(__file__).resolve().parent
RESULTS = BENCH / "results"
PAGE = BENCH.parent / "docs" / "performance.md"
TRIED = BENCH / "tried.md"

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
    parts = (scenarios(results), components(results), rest(results), curve(results))
    return "\n\n".join(part for part in parts if part)


def scenarios(results: dict) -> str:
    """Each scenario beside native logical replication, against its target."""
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
    return "\n".join(lines)


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
                # a figure still falling after BENCH_SETTLE_SECONDS is said to be; a record
                # made before that flag existed rested only until it settled
                label = label if i.get("settled", True) else "Idle stack, still settling"
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
    knees = " | ".join("-" if c[n]["knee"] is None else f"{c[n]['knee']:g}" for n in names)
    lines.append(f"| knee (p99 < 100 ms) | {knees} |")
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


HEADER = """\
<!-- Generated by `python -m bench.report` from bench/results and bench/tried.md: edit those. -->
# Performance

What the pipeline costs and how fast it is, each figure beside native PostgreSQL logical
replication between the same two servers in the same run. Generated by `python -m bench.report`
from the summaries kept in `bench/results/`; how each figure is taken and how to run the
benches: [bench/README.md](../bench/README.md)."""

PLOT = (
    "![latency distributions at the paced rate, and latency by rate](../bench/results/latest.png)"
)


def page(results: Path = RESULTS) -> str:
    """docs/performance.md: every summary bench/results keeps, and what we tried."""
    sections = (
        ("The latest run", latest_section(results)),
        ("Before and after the cost work", cost_section(results)),
        ("The sink's drain beside Debezium's JDBC sink", jdbc_section(results)),
        ("Failover in cluster mode", failover_section(results)),
        ("What the conflict log costs", conflicts_section(results)),
        ("Long outages", outage_section(results)),
        ("Scaling out on two cores", scale_section(results)),
        ("What we tried, what each bought", tried_section()),
    )
    return HEADER + "".join(f"\n\n## {title}\n\n{body}" for title, body in sections if body) + "\n"


def kept(results: Path, name: str) -> dict | None:
    """A summary kept in bench/results, or None when there is none."""
    path = results / name
    return json.loads(path.read_text()) if path.exists() else None


def source(data: dict, name: str) -> str:
    """A summary's own description, and the file it comes from."""
    what = data.get("what", "")
    return (
        f"{what[:1].upper()}{what[1:]} (`bench/results/{name}`)."
        if what
        else f"`bench/results/{name}`."
    )


def blocks(*parts: str) -> str:
    """Markdown blocks, the empty ones left out."""
    return "\n\n".join(part for part in parts if part)


def latest_section(results: Path) -> str:
    """The latest full `make bench`: its scenarios, cost by component, rest, curve and plot."""
    record = kept(results, "latest.json")
    if record is None:
        return ""
    r = record["results"]
    plot = PLOT if (results / "latest.png").exists() else ""
    return blocks(
        f"`make bench`, the latest full run (`bench/results/latest.json`). {run_head(record)}",
        titled("Beside native logical replication", scenarios(r)),
        titled("CPU-ms per synced write, by component", components(r)),
        titled("At rest, and single requests", rest(r)),
        titled("Latency by rate", blocks(curve(r), plot)),
    )


def titled(title: str, body: str) -> str:
    """A subsection, or nothing when it has no body."""
    return f"### {title}\n\n{body}" if body else ""


def cost_section(results: Path) -> str:
    """The whole bench before and after the cost work, figure by figure."""
    summary = kept(results, "ab-cost.json")
    if summary is None:
        return ""
    # imported here: `python -m bench.ab` runs this bench on older commits, whose stack may lack
    # what the other benches import
    from bench.ab import compare

    runs = summary["runs"]
    old, new = runs[summary["old"]], runs[summary["new"]]
    return blocks(source(summary, "ab-cost.json"), compare(old, new, ("before", "after")))


def jdbc_section(results: Path) -> str:
    """Our sink's drain beside Debezium's JDBC sink connector applying the same events."""
    record = kept(results, "drain-jdbc.json")
    if record is None:
        return ""
    r = record["results"]
    note = (
        "The JDBC sink upserts rows as they come and cannot merge fields: this is raw apply"
        " throughput, not the same work as our sink's per-field merge."
    )
    return blocks(source(record, "drain-jdbc.json"), note, scenarios(r), components(r))


def failover_section(results: Path) -> str:
    """The write stall after kill -9 of each kind of component, before and after tuning."""
    data = kept(results, "ab-failover.json")
    if data is None:
        return ""
    old, new = data["old"], data["new"]
    settings = f"Before: {old['settings']}.\n\nAfter: {new['settings']}."
    notes = [note(key, value) for key, value in data.items() if key not in ("what", "old", "new")]
    return blocks(
        source(data, "ab-failover.json"),
        settings,
        stall_table(old["stall"], new["stall"]),
        hop_table(new["stall"]),
        *notes,
    )


def conflicts_section(results: Path) -> str:
    """CPU per synced write before and after the conflict log, per direction and component."""
    data = kept(results, "ab-conflicts.json")
    if data is None:
        return ""
    lines = [
        "| direction | CPU-ms per write | before (median) | after (median) | after/before |",
        "|---|---|---|---|---|",
    ]
    for way, figures in data["medians"].items():
        for name, f in figures.items():
            label = name.removesuffix("_cpu_ms_per_write").replace("_", " ")
            lines.append(
                f"| {arrow(way)} | {label} | {f['old']} | {f['new']} | {f['new_over_old']}× |"
            )
    return blocks(
        source(data, "ab-conflicts.json"), "\n".join(lines), note("reading", data["reading"])
    )


def directions(stall: dict) -> list[str]:
    """The directions a stall figure names ("store->warehouse"), in the order it names them."""
    return list(dict.fromkeys(d for kill in stall.values() for d in kill if "->" in d))


def arrow(direction: str) -> str:
    """store->warehouse as Store→Warehouse."""
    return "→".join(side.capitalize() for side in direction.split("->"))


def stall_table(old: dict, new: dict) -> str:
    """p99 stall of the writes after each kill, before → after, per direction."""
    ways = directions(new)
    lines = [
        "| kill -9 | " + " | ".join(f"{arrow(w)} p99, before → after" for w in ways) + " | lost |",
        "|---|" + "---|" * len(ways) + "---|",
    ]
    for kind, after in new.items():
        before = old.get(kind, {})
        cells = [
            f"{before.get(w, {}).get('p99_s', '-')} → {after.get(w, {}).get('p99_s', '-')} s"
            for w in ways
        ]
        lost = sum(after.get(w, {}).get("lost", 0) for w in ways)
        lines.append(
            f"| {kind} ({after.get('killed', '?')}) | " + " | ".join(cells) + f" | {lost} |"
        )
    return "\n".join(lines)


def hop_table(stall: dict) -> str:
    """Where the p99 of the stall sat, hop by hop, when the run split it."""
    rows = [
        (kind, way, kill[way]["p99_by_hop"])
        for kind, kill in stall.items()
        for way in directions({kind: kill})
        if kill[way].get("p99_by_hop")
    ]
    if not rows:
        return ""
    hops = list(dict.fromkeys(h for _, _, by_hop in rows for h in by_hop))
    lines = [
        "| kill -9, after | direction | "
        + " | ".join(f"{h.replace('_', ' ')} p99" for h in hops)
        + " |",
        "|---|---|" + "---|" * len(hops),
    ]
    for kind, way, by_hop in rows:
        cells = " | ".join("-" if by_hop.get(h) is None else f"{by_hop[h]} s" for h in hops)
        lines.append(f"| {kind} | {arrow(way)} | {cells} |")
    return "\n".join(lines)


def note(key: str, value) -> str:
    """A summary's other field as a labelled line, or a labelled list."""
    label = key.replace("_", " ").capitalize()
    if isinstance(value, list):
        return f"{label}:\n\n" + "\n".join(f"- {item}" for item in value)
    return f"{label}: {value}."


def outage_section(results: Path) -> str:
    """A sink stopped under a backlog and Connect stopped under writes."""
    data = kept(results, "outage.json")
    if data is None:
        return ""
    from bench.outage import table as outage_table  # here, as in cost_section

    what = (
        "`make bench-outage` on the single-node stack: the Store→Warehouse sink stopped while"
        " changes pile up in Kafka, then started; Connect stopped while both APIs take writes:"
        " which alerts fire, the WAL the slots keep, the catch-up once it is back"
    )
    return blocks(f"{what} (`bench/results/outage.json`).", outage_table(data))


def scale_section(results: Path) -> str:
    """The sink with one and two replicas, and a single node beside a cluster."""
    data = kept(results, "scale.json")
    if data is None:
        return ""
    from bench.scale import table as scale_table  # here, as in cost_section

    what = (
        "The sink draining a 3-partition topic with one and with two replicas, and Store→Warehouse"
        " latency on the single-node stack beside a cluster stack (3 brokers, 2 Connect workers,"
        " 2 sink replicas a direction), in one run. On two cores a second replica competes with"
        " PostgreSQL and Kafka for the same CPU: it buys failover, not throughput."
    )
    return blocks(what, source(data, "scale.json"), scale_table(data))


def tried_section() -> str:
    """The hand-written table of bench/tried.md, without its comment line."""
    lines = TRIED.read_text().splitlines()
    return "\n".join(line for line in lines if not line.startswith("<!--")).strip()


def run_head(record: dict) -> str:
    """What a saved run was measured on, and its calibration."""
    m, c = record["machine"], record.get("calibration", {})
    rows, per_row = c.get("native_backlog_rows_per_s"), c.get("native_cpu_ms_per_row")
    return (
        f"Measured on {m['cores']} cores, {m['memory_gb']} GiB ({m['cpu']}), Python"
        f" {m['python']}. Calibration, native logical replication in the same run:"
        f" {f'{rows:,}' if rows else '-'} rows/s, {per_row or '-'} CPU-ms per row; compare runs"
        " of other machines or days as ratios to it."
    )


def run_block(record: dict) -> str:
    """A saved run's head and tables."""
    # rendered again from the figures, so a saved run reads by the current rules
    return run_head(record) + "\n\n" + table(record["results"])


def main(argv: list[str]) -> int:
    """Write docs/performance.md, or print the tables of the saved run named."""
    if argv:
        print(run_block(json.loads(Path(argv[0]).read_text())))
        return 0
    PAGE.write_text(page())
    print(f"[bench] wrote {PAGE.relative_to(BENCH.parent)}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
