"""Database helpers of the benchmarks: connections, counts, timestamps, cleanup."""

import os
import subprocess
import sys

import psycopg2
import psycopg2.extras

from ordersync.db.roles import OWNER, setup_database
from ordersync.sync.mapping import TABLES, columns, other
from stack import provision, secrets, topology
from stack.probes import wait_until

psycopg2.extras.register_uuid()


def connect(
    side: str, database: str | None = None, autocommit: bool = True, role: str = topology.SUPERUSER
):
    """A connection to one side's server (its own database by default).

    As the superuser by default: the benchmarks set up native logical replication and scratch
    databases, which only it may do. The product's processes never log in as it.
    """
    conn = secrets.connect(side, role, database)
    conn.autocommit = autocommit
    return conn


def scalar(conn, sql: str, *params):
    """Run a query and return the first column of the first row."""
    with conn.cursor() as cur:
        cur.execute(sql, params)
        return cur.fetchone()[0]


def created_at(conn, side: str, ids: list) -> dict:
    """Map order id to its created_at on one side."""
    with conn.cursor() as cur:
        cur.execute(f"SELECT id, created_at FROM {TABLES[side]} WHERE id = ANY(%s::uuid[])", (ids,))
        return {str(k): v for k, v in cur.fetchall()}


def retire(side: str, prefix: str) -> None:
    """Delete benchmark orders the normal way (synced tombstones), and wait until both agree.

    A quiet purge would be cheaper, but a later replay of the change topics would then bring
    the purged orders back: tombstones keep "replay changes nothing" true.
    """
    source, target = connect(side), connect(other(side))
    pattern = f"{prefix}-%"
    with source.cursor() as cur:
        cur.execute(
            f"UPDATE {TABLES[side]} SET deleted = true WHERE order_number LIKE %s AND NOT deleted",
            (pattern,),
        )
    live = f"SELECT count(*) FROM {TABLES[other(side)]} WHERE order_number LIKE %s AND NOT deleted"
    wait_until(lambda: scalar(target, live, pattern) == 0, 600, "tombstones synced")
    source.close()
    target.close()


def insert_orders(conn, table: str, prefix: str, first: int, stop: int) -> None:
    """Insert the backlog's orders numbered first … stop - 1 in one transaction."""
    name = columns("store")["customer_name"]
    with conn.cursor() as cur:
        cur.execute(
            f"INSERT INTO {table} (id, order_number, {name}, shipping_address, items)"
            " SELECT gen_random_uuid(), %s || '-' || n, 'Backlog', '1 Queue St',"
            """ '[{"sku": "B", "quantity": 1}]' FROM generate_series(%s, %s) AS n""",
            (prefix, first, stop - 1),
        )


def migrated_scratch(database: str) -> None:
    """Create a scratch warehouse database beside the real one, with the roles, at head."""
    admin = connect("warehouse", "postgres")
    if not scalar(admin, "SELECT count(*) FROM pg_database WHERE datname = %s", database):
        with admin.cursor() as cur:
            cur.execute(f"CREATE DATABASE {database}")
    admin.close()
    passwords = secrets.db_passwords()
    provision.superuser(
        "warehouse", database, lambda conn: setup_database(conn, database, passwords)
    )
    env = os.environ | {
        "DATABASE_URL": secrets.database_url("warehouse", OWNER.name, database),
        "APP_ENV": "development",
    }
    subprocess.run(
        [sys.executable, "-m", "flask", "--app", "warehouse", "db", "upgrade"],
        env=env,
        check=True,
        capture_output=True,
        cwd=topology.ROOT,
    )
    provision.grant("warehouse", database)
