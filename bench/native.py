"""Native PostgreSQL logical replication between the same two servers, on a scratch table."""

import uuid

from bench.cost import native_pids
from bench.db import connect, scalar
from stack import topology
from stack.probes import wait_until
from stack.secrets import db_passwords

PUB, SUB, TABLE = "bench_native_pub", "bench_native_sub", "bench_native"


def setup() -> None:
    """A publication on store-db and a subscription on warehouse-db, both on a scratch table."""
    teardown()
    source, target = connect("store"), connect("warehouse")
    with source.cursor() as cur:
        cur.execute(
            f"CREATE TABLE {TABLE} (id uuid PRIMARY KEY, payload text NOT NULL,"
            " created_at timestamptz NOT NULL DEFAULT clock_timestamp())"
        )
        cur.execute(f"CREATE PUBLICATION {PUB} FOR TABLE {TABLE}")
    with target.cursor() as cur:
        # received_at is not published: the apply worker fills in its default on arrival
        cur.execute(
            f"CREATE TABLE {TABLE} (id uuid PRIMARY KEY, payload text NOT NULL,"
            " created_at timestamptz NOT NULL,"
            " received_at timestamptz NOT NULL DEFAULT clock_timestamp())"
        )
        conninfo = (
            f"host={topology.HOST} port={topology.DATABASES['store']} dbname=store "
            f"user={topology.SUPERUSER} password={db_passwords()[topology.SUPERUSER]}"
        )
        cur.execute(f"CREATE SUBSCRIPTION {SUB} CONNECTION '{conninfo}' PUBLICATION {PUB}")
    source.close()
    target.close()


def teardown() -> None:
    """Drop the subscription (and its slot), the publication and both scratch tables."""
    target, source = connect("warehouse"), connect("store")
    with target.cursor() as cur:
        cur.execute(f"DROP SUBSCRIPTION IF EXISTS {SUB}")
        cur.execute(f"DROP TABLE IF EXISTS {TABLE}")
    with source.cursor() as cur:
        cur.execute(f"DROP PUBLICATION IF EXISTS {PUB}")
        cur.execute(f"DROP TABLE IF EXISTS {TABLE}")
    source.close()
    target.close()


def insert_one(conn) -> uuid.UUID:
    """Insert one row on the publisher, committed at once."""
    row_id = uuid.uuid4()
    with conn.cursor() as cur:
        cur.execute(f"INSERT INTO {TABLE} (id, payload) VALUES (%s, 'x')", (row_id,))
    return row_id


def insert_batch(conn, rows: int) -> None:
    """Insert rows on the publisher in one transaction."""
    with conn.cursor() as cur:
        cur.execute(
            f"INSERT INTO {TABLE} (id, payload) SELECT gen_random_uuid(), 'x'"
            " FROM generate_series(1, %s)",
            (rows,),
        )


def latencies(ids: list) -> list[float]:
    """Seconds from insert on the publisher to arrival on the subscriber, per row."""
    conn = connect("warehouse")
    with conn.cursor() as cur:
        cur.execute(
            f"SELECT extract(epoch FROM received_at - created_at) FROM {TABLE} WHERE id = ANY(%s)",
            (ids,),
        )
        values = [float(r[0]) for r in cur.fetchall()]
    conn.close()
    return values


def arrived() -> int:
    """Rows on the subscriber."""
    conn = connect("warehouse")
    count = scalar(conn, f"SELECT count(*) FROM {TABLE}")
    conn.close()
    return count


def workers() -> dict[str, int]:
    """The subscription's walsender and apply worker, once both run: native replication's cost."""

    def running():
        pids = native_pids(SUB)
        return pids if all(pids.values()) else None

    return wait_until(running, 60, "native replication's workers")
