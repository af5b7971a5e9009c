"""Databases of the running stack: connections as a role, rows, plain SQL."""

import uuid

import psycopg2
import psycopg2.extras

from ordersync.db.roles import APP
from ordersync.service.settings import sqlalchemy_url
from ordersync.sync.mapping import TABLES, columns
from stack import secrets
from stack.secrets import database_url

psycopg2.extras.register_uuid()


def connect(side: str, database: str | None = None, role: str = APP.name):
    """Open an autocommit connection to a side's database (the stack's own by default).

    As the app's role unless told otherwise: plain SQL in tests is an ordinary local writer.
    """
    return secrets.connect(side, role, database, cursor_factory=psycopg2.extras.RealDictCursor)


def fetch_row(side: str, order_id, conn=None) -> dict | None:
    """Return one order row of a side's database, tombstones included."""
    own = conn is None
    conn = conn or connect(side)
    try:
        with conn.cursor() as cur:
            cur.execute(f"SELECT * FROM {TABLES[side]} WHERE id = %s", (uuid.UUID(str(order_id)),))
            return cur.fetchone()
    finally:
        if own:
            conn.close()


def column_by_id(side: str, column: str) -> dict:
    """Map every order id of a side (tombstones included) to one of its columns."""
    conn = connect(side)
    with conn.cursor() as cur:
        cur.execute(f"SELECT id::text AS id, {column} AS value FROM {TABLES[side]}")
        result = {row["id"]: row["value"] for row in cur.fetchall()}
    conn.close()
    return result


def insert_sql(side: str, order_number: str) -> str:
    """An INSERT a person might type in psql."""
    name = columns(side)["customer_name"]
    return (
        f"INSERT INTO {TABLES[side]} (id, order_number, {name}, shipping_address, items) "
        f"VALUES (gen_random_uuid(), '{order_number}', 'Sam', '3 Dock Rd', "
        f"""'[{{"sku": "Z", "quantity": 1}}]') RETURNING *"""
    )


def run(conn, sql: str, *params):
    """Execute and return the rows."""
    with conn.cursor() as cur:
        cur.execute(sql, params)
        return cur.fetchall() if cur.description else []


def scratch_url(side: str, role: str = APP.name) -> str:
    """The URL of `<side>_test` (made by the launcher beside the real one; nothing captures it)."""
    return database_url(side, role, f"{side}_test")


def sqlalchemy(url: str) -> str:
    """Pin the psycopg2 driver in a database URL, as the apps' settings do."""
    return sqlalchemy_url(url)
