"""CPU time of the stack's processes, read from /proc: what a scenario costs, per component.

A component's CPU is its supervised process's own user+system time plus that of its children:
the live ones (the apps' server workers, PostgreSQL backends and walsenders) and the exited ones,
which the kernel adds to the parent's cutime/cstime when it reaps them. So a backend that comes and
goes between two readings is still counted, and nothing is counted twice. supervisord itself is
a component too, by its own time only (its children are the other components): it reads every
log line the stack writes and appends it to a file, the work a container runtime's log driver
does under compose.
"""

import contextlib
import time

import psutil

from bench.db import connect, scalar
from stack import supervisor

# what each supervised program is called in the figures
COMPONENTS = {
    "store-app": "store_app",
    "warehouse-app": "warehouse_app",
    "sink-store-to-warehouse": "sink_to_warehouse",
    "sink-warehouse-to-store": "sink_to_store",
    "connect": "connect",
    "kafka": "kafka",
    "connect-watchdog": "watchdog",
    "store-db": "store_db",
    "warehouse-db": "warehouse_db",
}
# supervisord's label: its own CPU (the stack's log shipping), never its children's
SUPERVISOR = "supervisord"


def process_seconds(process: psutil.Process) -> float:
    """User+system seconds of a process and of its reaped children; 0 once it is gone."""
    try:
        times = process.cpu_times()
    except psutil.Error:
        return 0.0
    return times.user + times.system + times.children_user + times.children_system


def own_seconds(pid: int) -> float:
    """User+system seconds of the process alone; 0 once it is gone."""
    try:
        times = psutil.Process(pid).cpu_times()
    except psutil.Error:
        return 0.0
    return times.user + times.system


def tree_seconds(pid: int) -> float:
    """CPU seconds of a process and every live descendant (exited ones are in its children's)."""
    try:
        root = psutil.Process(pid)
        family = [root, *root.children(recursive=True)]
    except psutil.Error:
        return 0.0
    return sum(process_seconds(p) for p in family)


def stack_pids() -> dict[str, int]:
    """The pid of every running component, by its name in the figures."""
    states = supervisor.states()
    pids = {
        label(name): info["pid"] for name, info in states.items() if label(name) and info["pid"]
    }
    return pids | {SUPERVISOR: supervisor.call("getPID")}


def label(name: str) -> str | None:
    """A component's name in the figures; a cluster's brokers, workers and sink replicas by number
    (kafka-2 → kafka_2, sink-store-to-warehouse-1 → sink_to_warehouse_1)."""
    if name in COMPONENTS:
        return COMPONENTS[name]
    base, _, number = name.rpartition("-")
    return f"{COMPONENTS[base]}_{number}" if number.isdigit() and base in COMPONENTS else None


def seconds(label: str, pid: int) -> float:
    """CPU seconds so far of one component's process (and its children, but supervisord's)."""
    return own_seconds(pid) if label == SUPERVISOR else tree_seconds(pid)


def reading(pids: dict[str, int], exclude: dict[str, list[int]]) -> dict[str, float]:
    """CPU seconds so far of each component, less that of its excluded processes."""
    return {
        label: seconds(label, pid) - sum(tree_seconds(x) for x in exclude.get(label, ()))
        for label, pid in pids.items()
    }


class Meter:
    """CPU seconds each component spends between start() and stop().

    `exclude` names processes inside a component that are not its cost: the benchmark's own
    database sessions (its SQL writes, its polling for arrival) inside a PostgreSQL server.
    """

    def __init__(self, pids: dict[str, int] | None = None, exclude: dict | None = None):
        self.pids = pids if pids is not None else stack_pids()
        self.exclude = exclude or {}
        self.before: dict[str, float] = {}
        self.began = 0.0
        self.used: dict[str, float] = {}
        self.wall = 0.0

    def start(self) -> "Meter":
        """Take the first reading."""
        self.before, self.began = reading(self.pids, self.exclude), time.monotonic()
        return self

    def stop(self) -> dict[str, float]:
        """Take the second reading; CPU seconds per component in between."""
        after, self.wall = reading(self.pids, self.exclude), time.monotonic() - self.began
        self.used = {k: max(0.0, after[k] - self.before.get(k, 0.0)) for k in after}
        return self.used


@contextlib.contextmanager
def metered(pids: dict[str, int] | None = None, exclude: dict | None = None):
    """Measure the stack's CPU over a with-block."""
    meter = Meter(pids, exclude).start()
    try:
        yield meter
    finally:
        meter.stop()


def per_write(used: dict[str, float], writes: int) -> dict:
    """CPU-ms per synced write, in total and per component."""
    if not writes:
        return {}
    parts = {k: round(v * 1000 / writes, 3) for k, v in sorted(used.items())}
    return {"total": round(sum(used.values()) * 1000 / writes, 3), "components": parts}


def share_of_core(used: dict[str, float], wall: float) -> dict:
    """Per-component and total CPU as a percentage of one core over the wall time."""
    parts = {k: round(v * 100 / wall, 2) for k, v in sorted(used.items())}
    return {"total_pct": round(sum(used.values()) * 100 / wall, 2), "components_pct": parts}


def sessions(**conns) -> dict[str, list[int]]:
    """The server processes of the benchmark's own connections, by component: not its cost."""
    return {f"{side}_db": [conn.get_backend_pid()] for side, conn in conns.items()}


def native_pids(subscription: str) -> dict[str, int]:
    """Native logical replication's own processes: the walsender on store, the apply worker."""
    store, warehouse = connect("store"), connect("warehouse")
    try:
        walsender = scalar(
            store,
            "SELECT coalesce(max(pid), 0) FROM pg_stat_replication WHERE application_name = %s",
            subscription,
        )
        apply = scalar(
            warehouse,
            "SELECT coalesce(max(pid), 0) FROM pg_stat_subscription"
            " WHERE subname = %s AND relid IS NULL",
            subscription,
        )
    finally:
        store.close()
        warehouse.close()
    return {"native_walsender": walsender, "native_apply": apply}


def drain_result(events: int, first: float, done: float, peak_rss: int, used: dict) -> dict:
    """The figures of a drain: rate from the first applied event to the last, peak RSS, CPU."""
    seconds = max(done - first, 1e-3)
    return {
        "events": events,
        "seconds": round(seconds, 2),
        "events_per_s": round(events / seconds),
        "peak_rss_mb": round(peak_rss / 2**20, 1),
        "cpu_ms_per_write": per_write(used, events),
    }
