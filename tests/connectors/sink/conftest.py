"""Fixtures of the sink tests that write to the real warehouse test database."""

import pytest

from ordersync.mapping import TABLES, WAREHOUSE
from ordersync.roles import OWNER, PARKED_TABLE
from tests.support import fakes
from tests.support.db import connect


@pytest.fixture
def owner(apps):
    """The owner's session on the warehouse test database, with empty order and parking tables."""
    conn = connect(WAREHOUSE, "warehouse_test", OWNER.name)
    with conn.cursor() as cur:
        cur.execute(f"TRUNCATE {TABLES[WAREHOUSE]}, purged_order, {PARKED_TABLE}")
    yield conn
    conn.close()


@pytest.fixture
def producer():
    return fakes.Producer()
