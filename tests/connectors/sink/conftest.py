"""Fixtures of the sink tests that write to the real warehouse test database."""

import uuid

import pytest

from connectors.sink.target import Target
from ordersync.db.roles import CONFLICT_TABLE, OWNER, PARKED_TABLE, SINK
from ordersync.sync.mapping import STORE, TABLES, WAREHOUSE
from stack.secrets import database_url
from tests.support import fakes
from tests.support.db import connect


@pytest.fixture
def owner(apps):
    """The owner's session on the warehouse test database, with empty order and parking tables."""
    conn = connect(WAREHOUSE, "warehouse_test", OWNER.name)
    with conn.cursor() as cur:
        cur.execute(f"TRUNCATE {TABLES[WAREHOUSE]}, purged_order, {PARKED_TABLE}, {CONFLICT_TABLE}")
    yield conn
    conn.close()


@pytest.fixture
def target(apps):
    """A sink target on the warehouse test database."""
    dsn = database_url(WAREHOUSE, SINK.name, "warehouse_test")
    sink_target = Target(dsn, STORE, WAREHOUSE, f"cdc_test_{uuid.uuid4().hex[:8]}")
    sink_target.connect()
    yield sink_target
    sink_target.drop_origin()
    sink_target.close()


@pytest.fixture
def producer():
    return fakes.Producer()
