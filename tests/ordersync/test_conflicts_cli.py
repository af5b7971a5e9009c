"""`flask --app SIDE conflicts list|purge`, and `make conflicts`'s command line."""

import uuid

from ordersync.db.roles import OWNER
from ordersync.sync.mapping import columns
from stack import conflicts as make_conflicts
from tests.ordersync.test_conflicts_api import record
from tests.support.db import scratch_url, sqlalchemy


def invoke(app, *args):
    """Invoke a `conflicts` command."""
    return app.test_cli_runner().invoke(args=["conflicts", *args])


def test_list_shows_each_conflict_newest_first_and_filters(app, side):
    order, other = str(uuid.uuid4()), str(uuid.uuid4())
    record(side, order, "status", days_ago=1)
    record(side, order, "notes", winner="incoming", local_version=3, incoming_version=4)
    record(side, other, "status")
    result = invoke(app, "list", "--order", order)
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert len(lines) == 2 and " notes incoming " in lines[0] and " status local " in lines[1]
    assert 'local="shipped"@2 incoming="cancelled"@2' in lines[1]
    assert len(invoke(app, "list", "--winner", "local").output.splitlines()) == 2
    assert len(invoke(app, "list", "--field", "notes").output.splitlines()) == 1


def test_list_filters_by_the_field_name_it_shows(app, side):
    record(side, str(uuid.uuid4()), "customer_name")
    shown = columns(side)["customer_name"]  # the warehouse's recipient_name
    for name in {shown, "customer_name"}:
        lines = invoke(app, "list", "--field", name).output.splitlines()
        assert len(lines) == 1 and f" {shown} " in lines[0]


def test_the_app_role_may_not_purge(app, side):
    result = invoke(app, "purge")
    assert result.exit_code != 0 and "owner" in result.output


def test_the_owner_purges_what_is_past_retention(app, side):
    order = str(uuid.uuid4())
    record(side, order, "status", days_ago=91)
    record(side, order, "notes", days_ago=89)
    owner_app = __import__(side).create_app(
        {"TESTING": True, "SQLALCHEMY_DATABASE_URI": sqlalchemy(scratch_url(side, OWNER.name))}
    )
    with owner_app.app_context():  # the owner's session, not the fixture's app role
        result = invoke(owner_app, "purge")
    assert result.exit_code == 0, result.output
    assert "purged 1 conflict(s) decided more than 90 days ago" in result.output
    assert "notes" in invoke(app, "list").output and "status" not in invoke(app, "list").output


def test_make_conflicts_lists_both_sides_or_one(monkeypatch):
    calls = []
    monkeypatch.setattr(make_conflicts, "database_url", lambda side: f"postgresql:///{side}")
    monkeypatch.setattr(make_conflicts.subprocess, "call", lambda c, env: calls.append(c) or 0)
    assert make_conflicts.main(["--order", "abc"]) == 0
    assert [c[4] for c in calls] == ["store", "warehouse"]
    assert calls[0][-4:] == ["conflicts", "list", "--order", "abc"]
    calls.clear()
    make_conflicts.main(["--side", "warehouse"])
    assert [c[4] for c in calls] == ["warehouse"]
