"""The per-process account cache: no user query per request, and no stale answer after a change."""

import time
import uuid

import psycopg2
import pytest
import requests
from sqlalchemy import create_engine, event

from bench.client import PATHS
from ordersync import topology
from ordersync.auth.accounts import (
    LISTENER,
    Account,
    confirm_invalidated,
    find_account,
    received,
)
from ordersync.sync.mapping import SIDES
from ordersync.web.extensions import db
from stack.secrets import database_url
from tests.support.apps import add_user, bearer
from tests.support.db import scratch_url, sqlalchemy
from tests.support.processes import users_cli
from tests.support.web import PASSWORD, TOKEN_PATH

# enough calls that both server workers (and several of their threads) answer some
CALLS = 16


def user_queries(app, calls):
    """Run `calls()` and return how many statements it sent that read user_account."""
    seen = []

    def count(_conn, _cursor, statement, *_args):
        if "user_account" in statement:
            seen.append(statement)

    event.listen(db.engine, "before_cursor_execute", count)
    try:
        calls()
    finally:
        event.remove(db.engine, "before_cursor_execute", count)
    return len(seen)


def test_requests_do_not_query_the_user_once_cached(app, side):
    wait_until_listening(app)
    token = issue(app, f"cache-{uuid.uuid4().hex[:8]}", "viewer")
    client = app.test_client()

    def many():
        for _ in range(20):
            assert client.get(PATHS[side], headers=bearer(token)).status_code == 200

    assert user_queries(app, many) <= 1


def test_a_lookup_that_raced_a_change_is_not_kept(app):
    cache = app.extensions["accounts"]
    wait_until_listening(app)
    add_user(name := f"cache-{uuid.uuid4().hex[:8]}", "viewer")
    generation = cache.generation

    def change_during_the_read(*_args):
        cache.clear()  # what the listener does when a change arrives mid-read

    event.listen(db.engine, "before_cursor_execute", change_during_the_read)
    try:
        assert find_account(name).role == "viewer"
    finally:
        event.remove(db.engine, "before_cursor_execute", change_during_the_read)
    assert cache.generation > generation
    assert name not in cache.entries


def test_a_cached_account_is_detached_and_checks_like_a_user():
    account = Account("ann", "editor", True, "s1")
    assert account.can("viewer") and account.can("editor") and not account.can("admin")
    assert account.accepts("s1") and not account.accepts("s2") and not account.accepts(None)
    disabled = Account("ann", "admin", False, "s1")
    assert not disabled.can("viewer") and not disabled.accepts("s1")


def test_notifications_that_arrive_during_a_statement_are_not_lost(apps, side):
    listening, sending = (psycopg2.connect(scratch_url(side)) for _ in range(2))
    try:
        listening.autocommit = sending.autocommit = True
        with listening.cursor() as cur, sending.cursor() as send:
            cur.execute("LISTEN cache_test")
            send.execute("NOTIFY cache_test, 'probe'")
            cur.execute("SELECT 1")  # reads the notification off the socket with its result
            assert [n.payload for n in received(listening, 0.1)] == ["probe"]
            assert received(listening, 0.1) is None
    finally:
        listening.close()
        sending.close()


def wait_until_listening(app, seconds: float = 30):
    """Start the app's listener and poll until it is connected."""
    cache = app.extensions["accounts"]
    cache.start()
    deadline = time.monotonic() + seconds
    while not cache.listening:
        assert time.monotonic() < deadline, "the account listener did not connect"
        time.sleep(0.05)


def issue(app, name: str, role: str) -> str:
    """Add a user and log in through the API."""
    add_user(name, role)
    login = {"username": name, "password": PASSWORD}
    return app.test_client().post(TOKEN_PATH, json=login).json["access_token"]


def statuses(side: str, token: str) -> set[int]:
    """Answers of CALLS requests with the token, spread over the running app's workers."""
    url = topology.app_url(side) + PATHS[side]
    # a new connection each time, so that both server workers get some
    return {requests.get(url, headers=bearer(token), timeout=10).status_code for _ in range(CALLS)}


def running_token(side: str, name: str, password: str) -> str:
    """Log in to the running app."""
    login = {"username": name, "password": password}
    response = requests.post(topology.app_url(side) + TOKEN_PATH, json=login, timeout=10)
    return response.json()["access_token"]


CLI_CHANGES = {
    "disable": lambda name: ("disable", name),
    "role": lambda name: ("set-role", name, "viewer"),
}


@pytest.mark.parametrize("change", CLI_CHANGES)
@pytest.mark.parametrize("running_side", SIDES)
def test_the_running_apps_refuse_at_once_after_a_cli_change(stack, running_side, change):
    name = f"cache-{uuid.uuid4().hex[:8]}"
    users_cli(running_side, "create", name, "--role", "admin", password="first password")
    try:
        token = running_token(running_side, name, "first password")
        assert statuses(running_side, token) == {200}  # cached in every worker now
        users_cli(running_side, *CLI_CHANGES[change](name))
        assert statuses(running_side, token) == {401}
    finally:
        users_cli(running_side, "disable", name)


@pytest.mark.parametrize("running_side", SIDES)
def test_a_sql_change_is_refused_once_confirmed(stack, running_side):
    name = f"cache-{uuid.uuid4().hex[:8]}"
    users_cli(running_side, "create", name, "--role", "editor", password="first password")
    token = running_token(running_side, name, "first password")
    assert statuses(running_side, token) == {200}
    with psycopg2.connect(database_url(running_side)) as conn, conn.cursor() as cur:
        cur.execute("UPDATE user_account SET active = false WHERE username = %s", (name,))
    conn.close()
    engine = create_engine(sqlalchemy(database_url(running_side)))
    try:
        assert confirm_invalidated(engine)
    finally:
        engine.dispose()
    assert statuses(running_side, token) == {401}


@pytest.mark.parametrize("running_side", SIDES)
def test_a_lost_listener_reconnects_and_changes_still_apply_at_once(stack, running_side):
    name = f"cache-{uuid.uuid4().hex[:8]}"
    users_cli(running_side, "create", name, "--role", "editor", password="first password")
    try:
        token = running_token(running_side, name, "first password")
        assert statuses(running_side, token) == {200}
        before = listener_pids(running_side)
        assert before, "the running app has no account listener"
        with psycopg2.connect(database_url(running_side)) as conn, conn.cursor() as cur:
            cur.execute("SELECT pg_terminate_backend(pid) FROM unnest(%s) AS pid", (list(before),))
        conn.close()
        # meanwhile every request reads the database; poll until the workers listen again
        deadline = time.monotonic() + 30
        while len(listener_pids(running_side) - before) < len(before):
            assert statuses(running_side, token) == {200}
            assert time.monotonic() < deadline, "the account listeners did not reconnect"
        assert statuses(running_side, token) == {200}
        users_cli(running_side, "disable", name)
        assert statuses(running_side, token) == {401}
    finally:
        users_cli(running_side, "disable", name)


def listener_pids(side: str) -> set[int]:
    """Backends of the running app's account listeners."""
    with psycopg2.connect(database_url(side)) as conn, conn.cursor() as cur:
        cur.execute(
            "SELECT pid FROM pg_stat_activity "
            "WHERE datname = current_database() AND application_name = %s",
            (LISTENER,),
        )
        pids = {pid for (pid,) in cur.fetchall()}
    conn.close()
    return pids
