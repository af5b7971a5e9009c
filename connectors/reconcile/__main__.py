"""`python -m connectors.reconcile [--repair | --clashes | --rename ID NUMBER]`.

Compares both databases through the mapping, in chunks with a checksum each (chunks.py), and
exits 1 when they disagree. --repair rewrites
each differing or missing order on one side with versions above both sides', so the normal
pipeline carries the winning state across. --clashes lists order numbers held by two different
live orders, one on each side (created concurrently: the sink dead-letters the second);
--rename gives one of them a new number, after which `make dlq REPLAY=1` carries both across.
Reads as the read-only role from <SIDE>_DATABASE_URL, writes as the sink's role from
<SIDE>_REPAIR_DATABASE_URL (`make reconcile` runs it through `python -m stack exec`, which sets
both for the dev stack).
"""

import argparse
import os
import sys
import time

from connectors.reconcile.chunks import clashes_streamed, compare_chunked, load_order
from connectors.reconcile.compare import renamed, repair_state
from connectors.reconcile.db import connect, rewrite, shared_fields
from ordersync.db.roles import READER, SINK
from ordersync.sync.mapping import SIDES, FieldSet


class MissingSetting(RuntimeError):
    """A database URL the command needs is not in the environment."""


def dsn(side: str, role: str) -> str:
    """The side's URL for a role: <SIDE>_DATABASE_URL (reads) or <SIDE>_REPAIR_DATABASE_URL."""
    variable = f"{side.upper()}_{'REPAIR_' if role == SINK.name else ''}DATABASE_URL"
    if not os.environ.get(variable):
        raise MissingSetting(
            f"{variable} is not set: it is the {side} database as {role} "
            "(`make reconcile` sets it for the dev stack)"
        )
    return os.environ[variable]


def connect_all(role: str = READER.name) -> dict:
    """A connection to each side as a role."""
    return {side: connect(dsn(side, role)) for side in SIDES}


def close_all(conns: dict) -> None:
    """Close every connection."""
    for conn in conns.values():
        conn.close()


def write(side: str, expected: dict, wanted: list, fields: FieldSet) -> list[str]:
    """Rewrite states on one side as the sink's role; return the ids skipped as changed."""
    if not wanted:
        return []
    conn = connect(dsn(side, SINK.name))
    try:
        return rewrite(conn, side, expected, wanted, fields)
    finally:
        conn.close()


def repair(result) -> int:
    """Rewrite every differing or missing order's winning state; return the exit code."""
    states, report, fields = result.states, result.report, result.fields
    ids = [s.id for side in report.missing.values() for s in side]
    ids += [s.id for s, _, _ in report.differing]
    wanted = {side: [] for side in SIDES}
    for order_id in ids:
        store, warehouse = states["store"].get(order_id), states["warehouse"].get(order_id)
        side, state = repair_state(store, warehouse, fields)
        wanted[side].append(state)
    skipped = [i for side in SIDES for i in write(side, states[side], wanted[side], fields)]
    for order_id in skipped:
        print(f"repair: {order_id} changed while comparing; left alone, run reconcile again")
    print(f"repair: rewrote {len(ids) - len(skipped)} orders; they reach the other side via Kafka")
    return 1


# after a repair, the pipeline carries it across in well under a second; a difference still there
# this long after is repaired again (a write raced the first repair)
REPAIR_AGAIN_AFTER = 5.0


def catch_up(names: list[str], timeout: float) -> int:
    """Repair the given fields until both sides agree on them (after a rollout's second side).

    Values written on one side while the other had no column for them reach it this way.
    """
    deadline, repaired_at = time.monotonic() + timeout, None
    while True:
        conns = connect_all()
        try:
            result = compare_chunked(conns, names)
        finally:
            close_all(conns)
        if result.report.in_sync:
            print(f"catch-up: {', '.join(names)} agree on both sides")
            return 0
        if time.monotonic() > deadline:
            print("\n".join(result.report.lines()))
            print(f"catch-up: not in sync after {timeout:.0f}s; run it again")
            return 1
        if repaired_at is None or time.monotonic() - repaired_at > REPAIR_AGAIN_AFTER:
            repair(result)
            repaired_at = time.monotonic()
        time.sleep(0.2)  # poll: the repairs travel through Debezium, Kafka and the sink


def rename(conns: dict, order_id: str, number: str) -> int:
    """Give one order a new number on the side that holds it, through the pipeline."""
    fields = shared_fields(conns)
    states = {side: load_order(conn, side, order_id, fields) for side, conn in conns.items()}
    side, state = renamed(states["store"].get(order_id), states["warehouse"].get(order_id), number)
    if write(side, states[side], [state], fields):
        print(f"{order_id} changed meanwhile; run the command again")
        return 1
    print(f"renamed {order_id} to {number} on {side}; now replay dead letters: make dlq REPLAY=1")
    return 0


def main(argv: list[str] | None = None) -> int:
    """Compare, print the report, optionally repair or resolve a clash; return the exit code."""
    parser = argparse.ArgumentParser(prog="python -m connectors.reconcile", description=__doc__)
    action = parser.add_mutually_exclusive_group()
    action.add_argument("--repair", action="store_true", help="rewrite the winning states")
    action.add_argument("--clashes", action="store_true", help="list numbers held by two orders")
    action.add_argument("--rename", nargs=2, metavar=("ORDER_ID", "NUMBER"))
    action.add_argument(
        "--catch-up",
        action="store_true",
        help="repair --fields until both sides agree on them (make migrate runs it)",
    )
    parser.add_argument("--timeout", type=float, default=120.0, help="seconds --catch-up tries")
    parser.add_argument(
        "--fields",
        type=lambda text: [n.strip() for n in text.split(",") if n.strip()],
        help="compare (and repair) only these synced fields, comma-separated",
    )
    args = parser.parse_args(argv)
    if args.catch_up and not args.fields:
        parser.error("--catch-up needs --fields")
    try:
        conns = connect_all()
    except MissingSetting as error:
        parser.error(str(error))
    if args.catch_up:
        close_all(conns)
        return catch_up(args.fields, args.timeout)
    try:
        if args.rename:
            return rename(conns, *args.rename)
        if args.clashes:
            return print_clashes(clashes_streamed(conns))
        result = compare_chunked(conns, args.fields)
    except ValueError as error:  # --fields names a field the two sides do not both sync
        parser.error(str(error))
    finally:
        close_all(conns)
    print("\n".join(result.report.lines()))
    if result.report.in_sync:
        print("in sync")
        return 0
    return repair(result) if args.repair else 1


def print_clashes(found: list) -> int:
    """Print the clashing pairs; exit 1 when there are any."""
    for number, store_id, warehouse_id in found:
        print(f"clash: {number!r} is store order {store_id} and warehouse order {warehouse_id}")
    print(f"{len(found)} clash(es)")
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())
