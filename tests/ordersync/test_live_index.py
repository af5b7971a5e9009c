"""The order list reads the partial indexes of live orders, not every row with its tombstones."""

import json

from sqlalchemy import event, text

from bench.client import PATHS, order_body
from ordersync.extensions import db
from ordersync.mapping import TABLES


def plan_scans(node: dict):
    """Yield (node type, index name) of every scan in an EXPLAIN (FORMAT JSON) plan."""
    if "Scan" in node["Node Type"]:
        yield node["Node Type"], node.get("Index Name")
    for child in node.get("Plans", []):
        yield from plan_scans(child)


def list_statements(app, client, path: str) -> list[tuple[str, object]]:
    """The order-table statements (with their parameters) one GET of the list runs."""
    seen = []

    def after(_conn, _cursor, statement, parameters, *_args):
        if "user_account" not in statement:  # the token's user, read while the cache is cold
            seen.append((statement, parameters))

    with app.app_context():
        engine = db.engine
    event.listen(engine, "after_cursor_execute", after)
    try:
        assert client.get(path).status_code == 200
    finally:
        event.remove(engine, "after_cursor_execute", after)
    return seen


def test_list_count_and_page_use_a_partial_index_of_live_orders(app, client, side):
    """With sequential scans priced out, the count reads a live index and nothing scans it all.

    A condition spelled otherwise than the indexes' `NOT deleted` cannot use them at all: the
    count then scans the whole table, tombstones included. (The page may also walk the
    created_at index newest first and stop after a page: that is fine.)
    """
    table = TABLES[side]
    live_indexes = {f"{table}_live_newest", f"{table}_order_number_live"}
    assert client.post(PATHS[side], json=order_body(side)).status_code == 201
    # the count and a page; filtered to nothing, the count alone
    for path, count in ((PATHS[side], 2), (f"{PATHS[side]}?status=shipped", 1)):
        statements = list_statements(app, client, path)
        assert len(statements) == count
        with app.app_context():
            db.session.execute(text("SET LOCAL enable_seqscan = off"))
            for statement, parameters in statements:
                raw = db.session.connection().connection.dbapi_connection.cursor()
                raw.execute(f"EXPLAIN (FORMAT JSON) {statement}", parameters)
                plan = raw.fetchone()[0]
                plan = plan if isinstance(plan, list) else json.loads(plan)
                scans = list(plan_scans(plan[0]["Plan"]))
                assert "Seq Scan" not in {kind for kind, _ in scans}, (statement, scans)
                if statement.lstrip().startswith("SELECT count("):
                    indexes = {index for _, index in scans if index}  # a bitmap heap scan: none
                    assert indexes and indexes <= live_indexes, (statement, scans)
            db.session.rollback()
