"""Fixtures shared by the whole suite."""

import os

import psycopg2
import pytest
import requests

from ordersync import topology
from ordersync.auth.tokens import issue_token
from ordersync.auth.users import ROLES, find_user
from ordersync.db.roles import CONFLICT_TABLE, OWNER, READER
from ordersync.sync.mapping import SIDES, TABLES
from ordersync.web.extensions import db, limiter
from stack.secrets import client_environment
from tests.support.apps import make_app
from tests.support.db import connect

# the apps the suite builds in-process run with development secrets: say so, as production must not
os.environ["APP_ENV"] = "test"
# the operator commands the suite runs as subprocesses reach the stack as `stack exec` lets them
os.environ.update(client_environment())


def pytest_collection_modifyitems(items):
    """Mark each test that needs more than the two databases: `make test-fast` leaves it out."""
    for item in items:
        if "stack" in item.fixturenames or "/e2e/" in str(item.path):
            item.add_marker(pytest.mark.stack)


@pytest.fixture(scope="session")
def databases():
    """The dev stack's two PostgreSQL servers; fail clearly when they are down."""
    for side in SIDES:
        try:
            connect(side, role=READER.name).close()
        except psycopg2.OperationalError as error:
            pytest.fail(f"{side}-db is not running ({error}); use `make test` or `make test-fast`")


@pytest.fixture(scope="session")
def stack(databases):
    """The whole running dev stack (`make test` starts it); fail clearly when it is down."""
    for side in SIDES:
        try:
            requests.get(f"{topology.app_url(side)}/readyz", timeout=5).raise_for_status()
        except requests.RequestException as error:
            pytest.fail(f"the stack is not running ({error}); use `make test`, which starts it")
    return topology


@pytest.fixture(scope="session")
def apps(databases):
    """Both apps, each on its own migrated test database."""
    return {side: make_app(side) for side in SIDES}


@pytest.fixture(params=SIDES)
def side(request):
    """Run a test once per service."""
    return request.param


@pytest.fixture
def app(apps, side):
    """The side's app with an empty order table and a fresh login throttle."""
    flask_app, _ = apps[side]
    # as the owner: the app's role may not TRUNCATE
    conn = connect(side, f"{side}_test", OWNER.name)
    with conn.cursor() as cur:
        cur.execute(f"TRUNCATE {TABLES[side]}, purged_order, {CONFLICT_TABLE}")
    conn.close()
    with flask_app.app_context():
        limiter.reset()
        yield flask_app
        db.session.remove()


@pytest.fixture
def tokens(app):
    """A bearer token per role name."""
    return {role: issue_token(find_user(role)) for role in ROLES}


@pytest.fixture
def client(app, tokens):
    """A test client of the side's app, signed in as an editor."""
    client = app.test_client()
    client.environ_base["HTTP_AUTHORIZATION"] = f"Bearer {tokens['editor']}"
    return client


@pytest.fixture
def anonymous(app):
    """A test client without credentials."""
    return app.test_client()


@pytest.fixture
def test_db(apps, side):
    """An autocommit connection to the side's test database."""
    conn = connect(side, f"{side}_test")
    yield conn
    conn.close()
