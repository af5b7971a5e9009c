"""Database helpers of the benchmarks: connections, counts, timestamps, invisible cleanup."""

import psycopg2
import psycopg2.extras

from ordersync.mapping import TABLES
from stack import topology

psycopg2.extras.register_uuid()

CLEANUP_ORIGIN = "cdc_bench_cleanup"


def connect(side: str, database: str | None = None, autocommit: bool = True):
    """A connection to one side's server (its own database by default)."""
    dsn = topology.database_url(side)
    if database:
        dsn = dsn.rsplit("/", 1)[0] + "/" + database
    conn = psycopg2.connect(dsn)
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


def purge_quietly(side: str, where: str) -> int:
    """Really delete benchmark rows under a replication origin, so Debezium never sees it."""
    conn = connect(side, autocommit=False)
    with conn.cursor() as cur:
        cur.execute(
            "SELECT pg_replication_origin_create(%s) WHERE NOT EXISTS "
            "(SELECT 1 FROM pg_replication_origin WHERE roname = %s)",
            (CLEANUP_ORIGIN, CLEANUP_ORIGIN),
        )
        cur.execute("SELECT pg_replication_origin_session_setup(%s)", (CLEANUP_ORIGIN,))
        cur.execute("SET LOCAL sync.purge = on")
        cur.execute(f"DELETE FROM {TABLES[side]} WHERE {where}")
        deleted = cur.rowcount
    conn.commit()
    conn.close()
    return deleted
