"""A read or a create is one statement and no transaction around it; a change keeps its own."""

from contextlib import contextmanager

from psycopg2.extensions import TRANSACTION_STATUS_IDLE, TRANSACTION_STATUS_INTRANS
from sqlalchemy import event

from bench.client import PATHS, order_body
from ordersync.web.extensions import db


@contextmanager
def statements(app):
    """Record each order statement's first word and the transaction status psycopg2 saw after it."""
    seen = []

    def after(_conn, cursor, statement, *_args):
        if "user_account" not in statement:  # the token's user, read while the cache is cold
            seen.append((statement.split()[0], cursor.connection.info.transaction_status))

    with app.app_context():
        engine = db.engine
    event.listen(engine, "after_cursor_execute", after)
    try:
        yield seen
    finally:
        event.remove(engine, "after_cursor_execute", after)


def test_create_get_and_list_leave_no_transaction_open(app, client, side):
    with statements(app) as seen:
        created = client.post(PATHS[side], json=order_body(side))
        assert created.status_code == 201
        assert client.get(f"{PATHS[side]}/{created.json['id']}").status_code == 200
        assert client.get(PATHS[side]).status_code == 200
    # one INSERT, one SELECT, a count and a page: none of them inside BEGIN … COMMIT
    assert [word for word, _ in seen] == ["INSERT", "SELECT", "SELECT", "SELECT"]
    assert {status for _, status in seen} == {TRANSACTION_STATUS_IDLE}


def test_a_change_after_a_create_still_runs_in_a_transaction(app, client, side):
    created = client.post(PATHS[side], json=order_body(side)).json
    with statements(app) as seen:
        changed = client.patch(f"{PATHS[side]}/{created['id']}", json={"notes": "locked"})
        assert changed.status_code == 200
    # the row lock and the update share one transaction: the pooled connection was reset
    assert seen and {status for _, status in seen} == {TRANSACTION_STATUS_INTRANS}
    assert client.get(f"{PATHS[side]}/{created['id']}").json["notes"] == "locked"
