"""How long each direction stalls while a synced field is rolled out one side at a time.

Paced API writes run on both sides at once; a third of the way in, the Store takes a schema step
that adds a synced field, two thirds in the Warehouse takes it too (docs/schema-changes.md). Each
write's latency is its commit on one side to its row on the other. The stall of a step, per
direction, is the worst latency of the writes made from just before the step until a few
seconds after it, beside the median of the writes far from both steps. Afterwards the field is
retired and its columns dropped, outside the measurement.
"""

import threading
import time
import uuid

from bench.db import connect, created_at, retire
from bench.pacing import paced, percentiles
from ordersync.db import rollout
from ordersync.db.roles import OWNER
from ordersync.sync.fieldkinds import Text
from ordersync.sync.mapping import (
    SIDES,
    STORE,
    TABLES,
    WAREHOUSE,
    SchemaVersion,
    SyncedField,
    other,
)
from stack.probes import wait_until


def bench_field() -> SyncedField:
    """A synced field of the bench's own, named afresh each run (clocks keep retired names)."""
    tag = uuid.uuid4().hex[:8]
    return SyncedField(
        f"bench_{tag}", STORE, Text(64, nullable=True), columns={WAREHOUSE: f"bench_msg_{tag}"}
    )


# a write made this long before a step, up to AFTER seconds after it, counts as during the step
BEFORE, AFTER = 0.5, 3.0


def step(side: str, make) -> tuple[float, float]:
    """Apply a schema step to one side as its owner; return (wall clock when, seconds it took)."""
    conn = connect(side, autocommit=False, role=OWNER.name)
    began, wall = time.monotonic(), time.time()
    try:
        with conn, conn.cursor() as cur:
            cur.execute("SET lock_timeout = '10s'")
            rollout.apply_step(cur, side, make(cur))
    finally:
        conn.close()
    return wall, time.monotonic() - began


def next_step(**changes):
    """A factory of the step after the newest version either side has reached."""

    def make(cur) -> SchemaVersion:
        newest = max(newest_version(s) for s in SIDES)
        return SchemaVersion(max(newest, rollout.read(cur).version) + 1, **changes)

    return make


def newest_version(side: str) -> int:
    """The schema version a side syncs now."""
    conn = connect(side, role=OWNER.name)
    try:
        with conn.cursor() as cur:
            return rollout.read(cur).version
    finally:
        conn.close()


def contract(field: SyncedField, before: dict[str, int]) -> None:
    """Retire the field on both sides, drop its columns and forget the bench's versions.

    The bench leaves no trace: each side is back at the version it had, with the same fields.
    """
    for side in SIDES:
        step(side, next_step(retire=(field.name,)))
    for side in SIDES:
        conn = connect(side, role=OWNER.name)
        with conn.cursor() as cur:
            cur.execute(f"ALTER TABLE {TABLES[side]} DROP COLUMN {field.column(side)}")
            cur.execute("DELETE FROM sync_schema WHERE version > %s", (before[side],))
        conn.close()


def latencies(source: str, written: list) -> list[tuple[float, float]]:
    """(born as epoch seconds, latency) of each write from one side, once all have landed."""
    target = other(source)
    source_conn, target_conn = connect(source), connect(target)
    ids = [i for i in written if i]
    arrived = f"SELECT count(*) FROM {TABLES[target]} WHERE id = ANY(%s::uuid[])"

    def all_landed() -> bool:
        with target_conn.cursor() as cur:
            cur.execute(arrived, (ids,))
            return cur.fetchone()[0] == len(ids)

    wait_until(all_landed, 120, f"all rows from {source} arrived")
    born, landed = created_at(source_conn, source, ids), created_at(target_conn, target, ids)
    source_conn.close()
    target_conn.close()
    return [(born[i].timestamp(), (landed[i] - born[i]).total_seconds()) for i in born]


def stalls(samples: list[tuple[float, float]], steps: dict[str, float]) -> dict:
    """Worst latency around each step, and the median of writes far from every step, in ms."""
    near = {
        side: [lat for born, lat in samples if when - BEFORE <= born <= when + AFTER]
        for side, when in steps.items()
    }
    quiet = [
        lat
        for born, lat in samples
        if all(not when - BEFORE <= born <= when + AFTER for when in steps.values())
    ]
    return {
        "quiet": percentiles(quiet),
        **{f"{side}_step_max_ms": round(max(v, default=0) * 1000, 1) for side, v in near.items()},
    }


def rollout_stall(rate: float, seconds: float) -> dict:
    """Write both ways at `rate` each while the two sides take the step in turn."""
    from bench.scenarios import api_writer  # the scenarios' writer, without an import cycle

    prefix = f"RS{uuid.uuid4().hex[:6]}"
    written, steps, took = {}, {}, {}
    before = {side: newest_version(side) for side in SIDES}

    def write(side: str) -> None:
        written[side], _, _ = paced(api_writer(side, f"{prefix}{side[0]}"), rate, seconds)

    writers = [threading.Thread(target=write, args=(side,)) for side in SIDES]
    for writer in writers:
        writer.start()
    field = bench_field()
    add = next_step(add=(field,))
    for side, at in ((STORE, 1 / 3), (WAREHOUSE, 2 / 3)):
        time.sleep(seconds * at - (seconds / 3 if side == WAREHOUSE else 0))  # the schedule
        steps[side], took[side] = step(side, add)
    for writer in writers:
        writer.join()
    try:
        result = {
            f"{source}_to_{other(source)}": stalls(latencies(source, written[source]), steps)
            for source in SIDES
        }
    finally:
        contract(field, before)
        for side in SIDES:
            retire(side, f"{prefix}{side[0]}")
    worst = max(v for r in result.values() for k, v in r.items() if k.endswith("_step_max_ms"))
    return {
        **result,
        "worst_stall_ms": worst,
        "step_seconds": {side: round(t, 3) for side, t in took.items()},
        "rate": rate,
        "seconds": seconds,
    }
