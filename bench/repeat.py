"""Run a scenario several times and keep the median run, with the range of its figures."""

import statistics


def headline(result: dict) -> float:
    """The figure a scenario's runs are ordered by: its throughput, else its p99 latency."""
    for key in ("rows_per_s", "events_per_s", "req_per_s", "total_pct", "worst_stall_ms"):
        if key in result:
            return result[key]
    if "latency" in result:
        return result["latency"].get("p99_ms", 0)
    if "api" in result and "create" in result["api"]:
        return result["api"]["create"]["p50_ms"]
    return 0


def cost_median(runs: list[dict]) -> dict:
    """The median CPU-ms per write of the runs, in total and per component, with the range."""
    costs = [r["cpu_ms_per_write"] for r in runs if r.get("cpu_ms_per_write")]
    if not costs:
        return {}
    totals = [c["total"] for c in costs]
    parts = {k for c in costs for k in c["components"]}
    return {
        "total": statistics.median(totals),
        "range": [min(totals), max(totals)],
        "components": {
            k: statistics.median(c["components"].get(k, 0) for c in costs) for k in sorted(parts)
        },
    }


def summarise(runs: list[dict]) -> dict:
    """The median run's figures, the headline's range, the median cost, and every run's figures."""
    ordered = sorted(runs, key=headline)
    middle = dict(ordered[(len(ordered) - 1) // 2])
    if any(r.get("cpu_ms_per_write") for r in runs):
        middle["cpu_ms_per_write"] = cost_median(runs)
    values = [headline(r) for r in runs]
    return middle | {
        "runs": len(runs),
        "range": [min(values), max(values)],
        "every_run": [{k: v for k, v in r.items() if k != "samples"} for r in runs],
    }


def repeated(run, times: int) -> dict:
    """Run a scenario `times` times; its summary."""
    return summarise([run() for _ in range(times)])
