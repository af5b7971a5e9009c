"""The order list reads the partial indexes of live orders, not every row with its tombstones."""

import json

from sqlalchemy import event, text

from bench.client import PATHS, order_body
from ordersync.sync.mapping import TABLES
from ordersync.web.extensions import db


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


def test_the_list_counts_through_a_partial_index_of_live_orders(app, client, side):
    """With sequential scans priced out, the list's count reads one of the live indexes.

    A condition spelled otherwise than the indexes' `NOT deleted` cannot use them at all: the
    count then scans the whole table, tombstones included.
    """
    table = TABLES[side]
    live_indexes = {f"{table}_live_newest", f"{table}_order_number_live"}
    assert client.post(PATHS[side], json=order_body(side)).status_code == 201
    for path in (PATHS[side], f"{PATHS[side]}?status=shipped"):
        counts = [
            (statement, parameters)
            for statement, parameters in list_statements(app, client, path)
            if statement.lstrip().startswith("SELECT count(")
        ]
        assert len(counts) == 1  # each page counts once: that count is what is checked
        statement, parameters = counts[0]
        with app.app_context():
            db.session.execute(text("SET LOCAL enable_seqscan = off"))
            raw = db.session.connection().connection.dbapi_connection.cursor()
            raw.execute(f"EXPLAIN (FORMAT JSON) {statement}", parameters)
            plan = raw.fetchone()[0]
            db.session.rollback()
        plan = plan if isinstance(plan, list) else json.loads(plan)
        scans = list(plan_scans(plan[0]["Plan"]))
        indexes = {index for _, index in scans if index}  # a bitmap heap scan names none
        assert "Seq Scan" not in {kind for kind, _ in scans}, (statement, scans)
        assert indexes and indexes <= live_indexes, (statement, scans)


def test_an_order_table_keeps_only_the_indexes_its_queries_read(app, side):
    """Every index costs every insert; the plain created_at one served no query (0010)."""
    table = TABLES[side]
    with app.app_context():
        names = db.session.scalars(
            text("SELECT indexname FROM pg_indexes WHERE tablename = :t"), {"t": table}
        ).all()
    assert sorted(names) == sorted(
        [f"{table}_pkey", f"{table}_order_number_live", f"{table}_live_newest"]
    )
