"""`python -m connectors.reconcile [--repair]`: compare both databases through the mapping.

Exits 1 when they disagree. With --repair, each differing or missing order is rewritten on one
side with versions above both sides', so the normal pipeline carries the winning state across.
"""

import argparse
import os
import sys

from connectors.reconcile.compare import compare, repair_state
from connectors.reconcile.db import connect, load_states, rewrite
from ordersync.mapping import SIDES
from stack import topology


def main(argv: list[str] | None = None) -> int:
    """Compare, print the report, optionally repair; return the exit code."""
    parser = argparse.ArgumentParser(prog="python -m connectors.reconcile", description=__doc__)
    parser.add_argument("--repair", action="store_true", help="rewrite the winning states")
    args = parser.parse_args(argv)
    dsns = {s: os.environ.get(f"{s.upper()}_DATABASE_URL", topology.database_url(s)) for s in SIDES}
    conns = {side: connect(dsn) for side, dsn in dsns.items()}
    try:
        states = {side: load_states(conn, side) for side, conn in conns.items()}
        report = compare(states["store"], states["warehouse"])
        print("\n".join(report.lines()))
        if report.in_sync:
            print("in sync")
            return 0
        if args.repair:
            ids = [s.id for side in report.missing.values() for s in side]
            ids += [s.id for s, _, _ in report.differing]
            for order_id in ids:
                side, state = repair_state(
                    states["store"].get(order_id), states["warehouse"].get(order_id)
                )
                rewrite(conns[side], side, state)
            print(f"repair: rewrote {len(ids)} orders; they reach the other side through Kafka")
        return 1
    finally:
        for conn in conns.values():
            conn.close()


if __name__ == "__main__":
    sys.exit(main())
