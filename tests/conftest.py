"""Fixtures shared by the whole suite."""

import os

import psycopg2
import pytest
import requests
from flask_migrate import upgrade

from ordersync.auth import issue_token
from ordersync.extensions import db, limiter
from ordersync.mapping import SIDES, TABLES
from ordersync.roles import APP, OWNER
from ordersync.users import ROLES, User, find_user
from stack import provision, topology
from stack.secrets import database_url
from tests.helpers import connect

# the apps the suite builds in-process run with development secrets: say so, as production must not
os.environ["APP_ENV"] = "test"


def pytest_collection_modifyitems(items):
    """Mark everything under tests/e2e as needing the running stack."""
    for item in items:
        if "/e2e/" in str(item.fspath):
            item.add_marker(pytest.mark.e2e)


@pytest.fixture(scope="session")
def stack():
    """The running dev stack (`make test` starts it); fail clearly when it is down."""
    for side in SIDES:
        try:
            requests.get(f"{topology.app_url(side)}/readyz", timeout=5).raise_for_status()
        except requests.RequestException as error:
            pytest.fail(f"the stack is not running ({error}); use `make test`, which starts it")
    return topology


def scratch_url(side: str, role: str = APP.name) -> str:
    """The URL of `<side>_test` (made by the launcher beside the real one; nothing captures it)."""
    return database_url(side, role, f"{side}_test")


def sqlalchemy(url: str) -> str:
    """Pin the psycopg2 driver in a database URL."""
    return url.replace("postgresql://", "postgresql+psycopg2://")


def migrate_test_database(side: str) -> None:
    """Bring `<side>_test` to head as the owner, then grant each role its privileges."""
    factory = __import__(side).create_app
    owner = factory(
        {"TESTING": True, "SQLALCHEMY_DATABASE_URI": sqlalchemy(scratch_url(side, OWNER.name))}
    )
    with owner.app_context():
        upgrade()
        db.session.execute(db.text("TRUNCATE user_account, purged_order"))
        db.session.commit()
        db.session.remove()
    provision.grant(side, f"{side}_test")


def make_app(side: str):
    """Build one side's app on its migrated test database, connected as the app's role."""
    migrate_test_database(side)
    url = scratch_url(side)
    app = __import__(side).create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": sqlalchemy(url)})
    with app.app_context():
        for role in ROLES:
            add_user(role, role)
        db.session.remove()
    return app, url


def add_user(username: str, role: str, active: bool = True) -> User:
    """Add a user with the test password (inside an app context)."""
    user = User(username=username, role=role, active=active)
    user.set_password(PASSWORD)
    db.session.add(user)
    db.session.commit()
    return user


@pytest.fixture(scope="session")
def apps(stack):
    """Both apps, each on its own migrated test database."""
    return {side: make_app(side) for side in SIDES}


@pytest.fixture(params=SIDES)
def side(request):
    """Run a test once per service."""
    return request.param


PASSWORD = "correct horse battery staple"


@pytest.fixture
def app(apps, side):
    """The side's app with an empty order table and a fresh login throttle."""
    flask_app, _ = apps[side]
    # as the owner: the app's role may not TRUNCATE
    with psycopg2.connect(scratch_url(side, OWNER.name)) as conn, conn.cursor() as cur:
        cur.execute(f"TRUNCATE {TABLES[side]}, purged_order")
    conn.close()
    with flask_app.app_context():
        limiter.reset()
        yield flask_app
        db.session.remove()


@pytest.fixture
def tokens(app):
    """A bearer token per role name."""
    return {role: issue_token(find_user(role)) for role in ROLES}


def bearer(token: str) -> dict:
    """The Authorization header for a token."""
    return {"Authorization": f"Bearer {token}"}


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
