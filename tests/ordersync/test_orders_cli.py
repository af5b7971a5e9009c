"""`flask --app SIDE orders purge`: only the owner, only tombstones, and purged ids are kept."""

from ordersync.db.roles import OWNER
from ordersync.sync.mapping import TABLES
from tests.support.db import insert_sql, run, scratch_url, sqlalchemy


def purge(app, *args):
    """Invoke `orders purge`."""
    return app.test_cli_runner().invoke(args=["orders", "purge", *args])


def test_the_app_role_may_not_purge(app):
    result = purge(app, "--older-than", "0")
    assert result.exit_code != 0 and "owner" in result.output


def test_the_owner_purges_only_deleted_orders(app, test_db, side):
    live = run(test_db, insert_sql(side, "LIVE-1"))[0]
    gone = run(test_db, insert_sql(side, "GONE-1"))[0]
    run(test_db, f"DELETE FROM {TABLES[side]} WHERE id = %s", gone["id"])
    owner_app = __import__(side).create_app(
        {"TESTING": True, "SQLALCHEMY_DATABASE_URI": sqlalchemy(scratch_url(side, OWNER.name))}
    )
    with owner_app.app_context():  # the owner's session, not the fixture's app role
        result = purge(owner_app, "--older-than", "0")
    assert result.exit_code == 0, result.output
    assert "purged 1 deleted orders" in result.output
    left = run(test_db, f"SELECT id FROM {TABLES[side]}")
    assert left == [{"id": live["id"]}]
