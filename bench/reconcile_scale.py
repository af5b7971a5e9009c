"""`python -m bench.reconcile_scale [ROWS [DIFFERENT]]`: reconcile a million orders a side.

Fills a scratch database on each server (`store_rc`, `warehouse_rc`: migrated, granted, never
captured) with the same ROWS orders (default 1,000,000; DIFFERENT of them, default 10, differ
on purpose), runs
`python -m connectors.reconcile` against them as the read-only role, and prints its wall time,
orders compared per second and peak RSS. Needs the running stack (`make bench-reconcile`).
"""

import json
import os
import subprocess
import sys
import time

from bench.db import connect, scalar
from ordersync.db.roles import OWNER, READER, setup_database
from ordersync.sync.mapping import SIDES, TABLES, columns
from stack import provision, topology
from stack.secrets import database_url, db_passwords

# reconcile in-process, then its own peak RSS (KiB) as the last line
MEASURED = (
    "import resource; from connectors.reconcile.__main__ import main; main([]); "
    "print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)"
)


def scratch(side: str) -> str:
    """Create (once), migrate and grant the side's scratch database; return its name."""
    name = f"{side}_rc"
    admin = connect(side, "postgres")
    if not scalar(admin, "SELECT count(*) FROM pg_database WHERE datname = %s", name):
        with admin.cursor() as cur:
            cur.execute(f"CREATE DATABASE {name}")
    admin.close()
    provision.superuser(side, name, lambda conn: setup_database(conn, name, db_passwords()))
    subprocess.run(
        [sys.executable, "-m", "flask", "--app", side, "db", "upgrade"],
        env=os.environ
        | {"DATABASE_URL": database_url(side, OWNER.name, name), "APP_ENV": "development"},
        check=True,
        capture_output=True,
        cwd=topology.ROOT,
    )
    provision.grant(side, name)
    return name


def fill(side: str, database: str, rows: int, different: int) -> None:
    """The same `rows` orders on every side (ids and values derived from a series)."""
    conn = connect(side, database, role=OWNER.name)
    name = columns(side)["customer_name"]
    with conn.cursor() as cur:
        cur.execute(f"TRUNCATE {TABLES[side]}")
        cur.execute(
            f"INSERT INTO {TABLES[side]} (id, order_number, {name}, shipping_address, items) "
            "SELECT md5('rc' || g)::uuid, 'RC-' || g, 'Name ' || g, g || ' Long Road', "
            """'[{"sku": "RC", "quantity": 1}]' FROM generate_series(1, %s) AS g""",
            (rows,),
        )
        if side == "warehouse" and different:
            cur.execute(
                "UPDATE warehouse_order SET status = 'shipped' WHERE order_number = ANY(%s)",
                ([f"RC-{1 + g * (rows // different)}" for g in range(different)],),
            )
        cur.execute(f"VACUUM ANALYZE {TABLES[side]}")
    conn.close()


def run(rows: int, different: int = 10) -> dict:
    """Fill both scratch databases and time one reconcile over them."""
    names = {}
    for side in SIDES:
        names[side] = scratch(side)
        started = time.monotonic()
        fill(side, names[side], rows, different)
        print(f"[bench] filled {side} with {rows} orders in {time.monotonic() - started:.0f}s")
    env = os.environ | {
        f"{side.upper()}_DATABASE_URL": database_url(side, READER.name, names[side])
        for side in SIDES
    }
    started = time.monotonic()
    result = subprocess.run(
        [sys.executable, "-c", MEASURED], env=env, capture_output=True, text=True, cwd=topology.ROOT
    )
    seconds = time.monotonic() - started
    peak = int(result.stdout.strip().splitlines()[-1]) / 1024
    return {
        "rows_per_side": rows,
        "seconds": round(seconds, 1),
        "orders_per_s": round(rows / seconds),
        "peak_rss_mb": round(peak, 1),
        "reported": result.stdout.strip().splitlines()[-2],
    }


if __name__ == "__main__":
    sizes = [int(arg) for arg in sys.argv[1:3]]
    print(json.dumps(run(*sizes) if sizes else run(1_000_000)))
