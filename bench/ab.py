"""`python -m bench.ab OLD NEW`: this bench on two commits' product code, interleaved, same machine.

Each commit gets a detached worktree under .stack/ab/<commit> with this checkout's bench/ copied
over its own (so both are measured the same way), this checkout's venv, and hard links to the
jars already downloaded. Then, round after round, each commit's stack is started fresh-as-kept
(its own data directory), `python -m bench` runs on it with BENCH_RUNS=1, and the stack stops,
so the two never share the machine and alternate which goes first (ABBA). The comparison of the
medians is printed and saved as ab.json in bench/results/ab-<time>/, beside the runs.

Options: --rounds N (3), --only a,b (BENCH_ONLY), and any BENCH_* size from the environment.
"""

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

from stack import topology

AB_DIR = topology.STATE / "ab"


def git(*args: str, cwd: Path = topology.ROOT) -> str:
    """Run git in a checkout and return its output."""
    return subprocess.run(
        ["git", *args], cwd=cwd, check=True, capture_output=True, text=True
    ).stdout.strip()


def checkout(commit: str) -> Path:
    """A worktree of the commit with this bench in it, ready to start its own stack."""
    sha = git("rev-parse", "--short", commit)
    root = AB_DIR / sha
    if not root.exists():
        git("worktree", "add", "--detach", str(root), sha)
    shutil.copytree(topology.ROOT / "bench", root / "bench", dirs_exist_ok=True)
    venv = root / ".venv"
    if not venv.exists():
        venv.symlink_to(topology.VENV_BIN.parent)
    lib = root / ".stack" / "lib"
    if not lib.exists():
        lib.parent.mkdir(parents=True, exist_ok=True)
        # hard links: the jars and the JDK are not downloaded again
        subprocess.run(["cp", "-al", str(topology.LIB), str(lib)], check=True)
    return root


def run_once(root: Path, out: Path, only: str) -> dict:
    """Start the commit's stack, run the bench on it, stop it; the run's record."""
    python = str(topology.VENV_BIN / "python")
    env = {k: v for k, v in os.environ.items() if k not in ("STACK_DIR", "BENCH_RESULTS")}
    env |= {"BENCH_RUNS": "1", "BENCH_RESULTS": str(out), "BENCH_ONLY": only}
    try:
        subprocess.run([python, "-m", "stack", "up"], cwd=root, env=env, check=True)
        subprocess.run([python, "-m", "bench"], cwd=root, env=env, check=True)
    finally:
        subprocess.run([python, "-m", "stack", "down"], cwd=root, env=env, check=False)
    return json.loads((out / "latest.json").read_text())


def figures(record: dict) -> dict[str, float]:
    """The figures compared between commits, flattened to name → value."""
    r, out = record["results"], {}
    for name, result in r.items():
        cost = result.get("cpu_ms_per_write") or {}
        if "total" in cost:
            out[f"{name} CPU-ms/write"] = cost["total"]
        for key in ("rows_per_s", "events_per_s", "req_per_s", "total_pct", "peak_rss_mb"):
            if key in result:
                out[f"{name} {key}"] = result[key]
        if "latency" in result:
            out[f"{name} p50 ms"] = result["latency"].get("p50_ms")
            out[f"{name} p99 ms"] = result["latency"].get("p99_ms")
    if "single_requests" in r:
        for kind, v in r["single_requests"]["api"].items():
            out[f"single {kind} p50 ms"] = v["p50_ms"]
            out[f"single {kind} CPU-ms"] = v["cpu_ms"]
    for name, data in r.get("curve", {}).items():
        out[f"knee {name}"] = data["knee"] or 0
    return out


def compare(old: list[dict], new: list[dict], names: tuple[str, str]) -> str:
    """A Markdown table of each figure's median per commit, its runs, and new/old."""
    a, b = [figures(x) for x in old], [figures(x) for x in new]
    keys = sorted({k for f in a + b for k in f})
    lines = [
        f"| figure | {names[0]} median (runs) | {names[1]} median (runs) | new/old |",
        "|---|---|---|---|",
    ]
    for key in keys:
        va = [f[key] for f in a if f.get(key) is not None]
        vb = [f[key] for f in b if f.get(key) is not None]
        if not va or not vb:
            continue
        ma, mb = statistics.median(va), statistics.median(vb)
        rel = f"{mb / ma:.2f}×" if ma else "-"
        lines.append(f"| {key} | {ma:g} ({', '.join(f'{v:g}' for v in va)}) |"
                     f" {mb:g} ({', '.join(f'{v:g}' for v in vb)}) | {rel} |")  # fmt: skip
    return "\n".join(lines)


def main(argv: list[str]) -> int:
    """Run both commits round by round, alternating which goes first; print the comparison."""
    parser = argparse.ArgumentParser(prog="python -m bench.ab")
    parser.add_argument("old")
    parser.add_argument("new")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--only", default="")
    args = parser.parse_args(argv)
    roots = {args.old: checkout(args.old), args.new: checkout(args.new)}
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    out = topology.ROOT / "bench" / "results" / f"ab-{stamp}"
    runs: dict[str, list[dict]] = {args.old: [], args.new: []}
    for round_ in range(args.rounds):
        order = [args.old, args.new] if round_ % 2 == 0 else [args.new, args.old]
        for commit in order:
            for attempt in (1, 2):  # a run that fails (an old commit's flaky start) gets a second
                print(f"[ab] round {round_ + 1}: {commit} (attempt {attempt})", flush=True)
                try:
                    run = run_once(roots[commit], out / f"{commit}-{round_}", args.only)
                except subprocess.CalledProcessError as error:  # say so, keep the rest
                    print(f"[ab] round {round_ + 1} of {commit} failed: {error}", flush=True)
                    continue
                runs[commit].append(run)
                break
    table = compare(runs[args.old], runs[args.new], (args.old, args.new))
    (out / "ab.json").write_text(
        json.dumps({"old": args.old, "new": args.new, "runs": runs, "table": table}, indent=1)
    )
    print(table)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
