"""Native PostgreSQL logical replication between the same two servers, on a scratch table.

Two shapes: the narrow table (three columns, one index: the cheapest row there is, the run's
calibration) and a copy of store_order's shape (its columns, defaults, constraints and indexes,
and on the publisher its triggers), which moves the backlog's very rows.
"""

import uuid

from bench.cost import native_pids
from bench.db import connect, insert_orders, scalar
from ordersync import topology
from stack.probes import wait_until
from stack.secrets import db_passwords
from stack.topology import SUPERUSER

PUB, SUB = "bench_native_pub", "bench_native_sub"
TABLE, ORDERS = "bench_native", "bench_native_orders"


def narrow_tables(source, target) -> str:
    """The three-column scratch table on both sides."""
    with source.cursor() as cur:
        cur.execute(
            f"CREATE TABLE {TABLE} (id uuid PRIMARY KEY, payload text NOT NULL,"
            " created_at timestamptz NOT NULL DEFAULT clock_timestamp())"
        )
    with target.cursor() as cur:
        # received_at is not published: the apply worker fills in its default on arrival
        cur.execute(
            f"CREATE TABLE {TABLE} (id uuid PRIMARY KEY, payload text NOT NULL,"
            " created_at timestamptz NOT NULL,"
            " received_at timestamptz NOT NULL DEFAULT clock_timestamp())"
        )
    return TABLE


def order_tables(source, target) -> str:
    """A table shaped like store_order on both sides, with store_order's triggers on the publisher.

    None on the subscriber: its apply worker runs as a replica, so ordinary triggers don't fire.
    """
    with source.cursor() as cur:
        cur.execute(f"CREATE TABLE {ORDERS} (LIKE store_order INCLUDING ALL)")
        cur.execute(
            "SELECT replace(pg_get_triggerdef(oid), ' ON public.store_order ', %s)"
            " FROM pg_trigger WHERE tgrelid = 'store_order'::regclass AND NOT tgisinternal",
            (f" ON {ORDERS} ",),
        )
        for (trigger,) in cur.fetchall():
            cur.execute(trigger)
        statements = shape(cur, ORDERS)
    with target.cursor() as cur:
        for statement in statements:
            cur.execute(statement)
    return ORDERS


def shape(cur, table: str) -> list[str]:
    """The statements that make `table` on a subscriber: columns, constraints, the other indexes."""
    # no defaults: every column arrives from the publisher, and a default may name a sequence
    # or a function the other database lacks
    cur.execute(
        "SELECT format('%%I %%s', attname, format_type(atttypid, atttypmod))"
        " || CASE WHEN attnotnull THEN ' NOT NULL' ELSE '' END"
        " FROM pg_attribute"
        " WHERE attrelid = %s::regclass AND attnum > 0 AND NOT attisdropped ORDER BY attnum",
        (table,),
    )
    columns = ", ".join(column for (column,) in cur.fetchall())
    # keys, checks and exclusions; not-null comes with the columns (PostgreSQL 18 lists it here
    # too), a foreign key would name tables the subscriber lacks, a constraint trigger is a trigger
    cur.execute(
        "SELECT format('ALTER TABLE %%I ADD CONSTRAINT %%I %%s', %s, conname,"
        " pg_get_constraintdef(oid)) FROM pg_constraint"
        " WHERE conrelid = %s::regclass AND contype IN ('p', 'u', 'c', 'x')",
        (table, table),
    )
    constraints = [statement for (statement,) in cur.fetchall()]
    cur.execute(
        "SELECT pg_get_indexdef(indexrelid) FROM pg_index WHERE indrelid = %s::regclass"
        " AND indexrelid NOT IN (SELECT conindid FROM pg_constraint WHERE conrelid = indrelid)",
        (table,),
    )
    indexes = [statement for (statement,) in cur.fetchall()]
    return [f"CREATE TABLE {table} ({columns})", *constraints, *indexes]


SHAPES = {"narrow": narrow_tables, "orders": order_tables}


def setup(shape_name: str = "narrow") -> str:
    """A publication on store-db and a subscription on warehouse-db of one scratch table."""
    teardown()
    source, target = connect("store"), connect("warehouse")
    try:
        table = SHAPES[shape_name](source, target)
        with source.cursor() as cur:
            cur.execute(f"CREATE PUBLICATION {PUB} FOR TABLE {table}")
        with target.cursor() as cur:
            conninfo = (
                f"host={topology.HOST} port={topology.DATABASES['store']} dbname=store "
                f"user={SUPERUSER} password={db_passwords()[SUPERUSER]}"
            )
            cur.execute(f"CREATE SUBSCRIPTION {SUB} CONNECTION '{conninfo}' PUBLICATION {PUB}")
    except Exception:
        teardown()  # half a setup must not stay behind
        raise
    finally:
        source.close()
        target.close()
    return table


def teardown() -> None:
    """Drop the subscription (and its slot), the publication and the scratch tables."""
    target, source = connect("warehouse"), connect("store")
    with target.cursor() as cur:
        cur.execute(f"DROP SUBSCRIPTION IF EXISTS {SUB}")
        cur.execute(f"DROP TABLE IF EXISTS {TABLE}, {ORDERS}")
    with source.cursor() as cur:
        cur.execute(f"DROP PUBLICATION IF EXISTS {PUB}")
        cur.execute(f"DROP TABLE IF EXISTS {TABLE}, {ORDERS}")
    source.close()
    target.close()


def insert_one(conn) -> uuid.UUID:
    """Insert one row on the publisher, committed at once."""
    row_id = uuid.uuid4()
    with conn.cursor() as cur:
        cur.execute(f"INSERT INTO {TABLE} (id, payload) VALUES (%s, 'x')", (row_id,))
    return row_id


def insert_batch(conn, table: str, first: int, stop: int) -> None:
    """Insert rows first … stop - 1 on the publisher in one transaction, as its shape wants them."""
    if table == ORDERS:
        insert_orders(conn, ORDERS, "NB", first, stop)  # the backlog's own statement
        return
    with conn.cursor() as cur:
        cur.execute(
            f"INSERT INTO {TABLE} (id, payload) SELECT gen_random_uuid(), 'x'"
            " FROM generate_series(1, %s)",
            (stop - first,),
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


def arrived(table: str = TABLE) -> int:
    """Rows on the subscriber."""
    conn = connect("warehouse")
    count = scalar(conn, f"SELECT count(*) FROM {table}")
    conn.close()
    return count


def workers() -> dict[str, int]:
    """The subscription's walsender and apply worker, once both run: native replication's cost."""

    def running():
        pids = native_pids(SUB)
        return pids if all(pids.values()) else None

    return wait_until(running, 60, "native replication's workers")
