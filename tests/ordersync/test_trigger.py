"""The versioning trigger on a real PostgreSQL: every local write path is versioned."""

import psycopg2
import pytest

from bench.client import PATHS, order_body
from ordersync.db.roles import APP, DEBEZIUM, OWNER, PURGED_TABLE, READER, SINK
from ordersync.sync.mapping import TABLES, other
from tests.support.db import connect, insert_sql, run


@pytest.fixture
def row(app, test_db, side):
    """A row inserted with plain SQL."""
    return run(test_db, insert_sql(side, "SQL-1"))[0]


def test_sql_insert_is_authored_by_this_side_at_version_one(row, side):
    assert row["sync_origin"] == side
    assert set(row["field_versions"].values()) == {1}
    assert row["version"] == 1


def test_sql_update_bumps_only_changed_synced_fields(row, test_db, side):
    table = TABLES[side]
    run(test_db, f"UPDATE {table} SET sync_origin = %s WHERE id = %s", other(side), row["id"])
    updated = run(
        test_db, f"UPDATE {table} SET status = 'shipped' WHERE id = %s RETURNING *", row["id"]
    )[0]
    assert updated["field_versions"]["status"] == 2
    assert updated["field_versions"]["notes"] == 1
    assert updated["sync_origin"] == side
    assert updated["version"] == 3


def test_local_only_change_leaves_the_clock_alone(row, test_db, side):
    local = {"store": "customer_email = 'a@b.c'", "warehouse": "bin_location = 'B2'"}[side]
    updated = run(
        test_db, f"UPDATE {TABLES[side]} SET {local} WHERE id = %s RETURNING *", row["id"]
    )[0]
    assert updated["field_versions"] == row["field_versions"]


def test_bulk_update_versions_every_row(row, test_db, side):
    run(test_db, insert_sql(side, "SQL-2"))
    rows = run(test_db, f"UPDATE {TABLES[side]} SET notes = 'bulk' RETURNING field_versions")
    assert [r["field_versions"]["notes"] for r in rows] == [2, 2]


def test_bookkeeping_cannot_be_forged_by_a_local_write(row, test_db, side):
    updated = run(
        test_db,
        f"""UPDATE {TABLES[side]} SET field_versions = '{{"status": 99}}', sync_origin = %s,
            version = 50 WHERE id = %s RETURNING *""",
        other(side),
        row["id"],
    )[0]
    assert updated["field_versions"] == row["field_versions"]
    assert updated["sync_origin"] == side
    assert updated["version"] == 2


@pytest.fixture
def as_role(apps, side):
    """Open autocommit sessions on the side's test database as one of the job roles."""
    opened = []

    def open_as(role: str):
        opened.append(connect(side, f"{side}_test", role))
        return opened[-1]

    yield open_as
    for conn in opened:
        conn.close()


def test_sink_role_writes_the_state_it_is_given(row, as_role, side):
    updated = run(
        as_role(SINK.name),
        f"""UPDATE {TABLES[side]} SET status = 'delivered', sync_origin = %s,
            field_versions = field_versions || '{{"status": 7}}' WHERE id = %s RETURNING *""",
        other(side),
        row["id"],
    )[0]
    assert updated["sync_origin"] == other(side)
    assert updated["field_versions"]["status"] == 7


@pytest.mark.parametrize("setting", ["sync.applying", "sync.purge", "sync.touch"])
def test_no_setting_makes_the_app_role_trusted(row, test_db, side, setting):
    with test_db.cursor() as cur:
        cur.execute("BEGIN")
        cur.execute("SELECT set_config(%s, 'on', true)", (setting,))
        cur.execute(
            f"""UPDATE {TABLES[side]} SET status = 'shipped', sync_origin = %s,
                field_versions = '{{"status": 9223372036854775807}}' WHERE id = %s RETURNING *""",
            (other(side), row["id"]),
        )
        updated = cur.fetchone()
        cur.execute(f"DELETE FROM {TABLES[side]} WHERE id = %s", (row["id"],))
        cur.execute("COMMIT")
    assert updated["sync_origin"] == side
    assert updated["field_versions"]["status"] == 2
    kept = run(test_db, f"SELECT deleted FROM {TABLES[side]} WHERE id = %s", row["id"])
    assert kept == [{"deleted": True}]  # a tombstone, not a purge
    with pytest.raises(psycopg2.errors.CheckViolation, match="cannot be revived"):
        run(test_db, f"UPDATE {TABLES[side]} SET deleted = false WHERE id = %s", row["id"])


@pytest.mark.parametrize("role", [READER.name, DEBEZIUM.name])
def test_roles_without_write_grants_cannot_touch_orders(row, as_role, side, role):
    conn = as_role(role)
    for statement in (
        f"UPDATE {TABLES[side]} SET sync_origin = 'x' WHERE id = %s",
        f"DELETE FROM {TABLES[side]} WHERE id = %s",
    ):
        with pytest.raises(psycopg2.errors.InsufficientPrivilege):
            run(conn, statement, row["id"])


def test_the_app_role_cannot_use_replication_origins(as_role, side):
    with pytest.raises(psycopg2.errors.InsufficientPrivilege):
        run(as_role(APP.name), "SELECT pg_replication_origin_session_setup('cdc_forged')")


def test_hard_delete_becomes_a_versioned_tombstone(row, test_db, side):
    assert run(test_db, f"DELETE FROM {TABLES[side]} WHERE id = %s RETURNING id", row["id"]) == []
    kept = run(test_db, f"SELECT * FROM {TABLES[side]} WHERE id = %s", row["id"])[0]
    assert kept["deleted"] is True
    assert kept["field_versions"]["deleted"] == 2


def test_the_owner_purges_a_tombstone_and_it_is_remembered(row, test_db, as_role, side):
    run(test_db, f"UPDATE {TABLES[side]} SET deleted = true WHERE id = %s", row["id"])
    owner = as_role(OWNER.name)
    run(owner, f"DELETE FROM {TABLES[side]} WHERE id = %s", row["id"])
    assert run(owner, f"SELECT id FROM {TABLES[side]} WHERE id = %s", row["id"]) == []
    assert run(owner, "SELECT id FROM purged_order WHERE id = %s", row["id"]) == [{"id": row["id"]}]


@pytest.mark.parametrize("role", [APP.name, READER.name, DEBEZIUM.name])
def test_only_the_sink_may_create_temporary_tables(as_role, side, role):
    with pytest.raises(psycopg2.errors.InsufficientPrivilege):
        run(as_role(role), "CREATE TEMP TABLE scratch (id int)")
    run(as_role(SINK.name), "CREATE TEMP TABLE scratch (id int)")


@pytest.fixture
def app_with_temporary_tables(as_role, side):
    """An app-role session allowed temporary tables, as PostgreSQL's default would allow."""
    grant = f"{{}} TEMPORARY ON DATABASE {side}_test {{}} {APP.name}"
    run(as_role(OWNER.name), grant.format("GRANT", "TO"))
    yield as_role(APP.name)
    run(as_role(OWNER.name), grant.format("REVOKE", "FROM"))


def test_a_temporary_view_cannot_pass_a_role_off_as_the_owner(
    row, test_db, app_with_temporary_tables, side
):
    """pg_temp is searched first: the trigger must name catalogs and tables in full."""
    table = TABLES[side]
    run(test_db, f"UPDATE {table} SET deleted = true WHERE id = %s", row["id"])
    app = app_with_temporary_tables
    run(
        app,
        "CREATE TEMP VIEW pg_roles AS SELECT relowner AS oid, current_user::name AS rolname"
        f" FROM pg_catalog.pg_class WHERE oid = '{table}'::regclass",
    )
    run(app, f"CREATE TEMP TABLE {PURGED_TABLE} (id uuid PRIMARY KEY)")
    run(app, f"DELETE FROM {table} WHERE id = %s", row["id"])
    assert run(test_db, f"SELECT deleted FROM {table} WHERE id = %s", row["id"]) == [
        {"deleted": True}
    ]


def test_a_purge_is_remembered_in_the_real_table_not_a_temporary_one(row, test_db, as_role, side):
    """The owner may create temporary tables; one named like the purged ids must not catch them."""
    run(test_db, f"UPDATE {TABLES[side]} SET deleted = true WHERE id = %s", row["id"])
    owner = as_role(OWNER.name)
    run(owner, f"CREATE TEMP TABLE {PURGED_TABLE} (id uuid PRIMARY KEY)")
    run(owner, f"DELETE FROM {TABLES[side]} WHERE id = %s", row["id"])
    remembered = run(owner, f"SELECT id FROM public.{PURGED_TABLE} WHERE id = %s", row["id"])
    assert remembered == [{"id": row["id"]}]


def test_the_owner_cannot_purge_a_live_order(row, as_role, side):
    with pytest.raises(psycopg2.errors.CheckViolation, match="only deleted orders"):
        run(as_role(OWNER.name), f"DELETE FROM {TABLES[side]} WHERE id = %s", row["id"])


def test_a_tombstone_cannot_be_revived(row, test_db, side):
    run(test_db, f"UPDATE {TABLES[side]} SET deleted = true WHERE id = %s", row["id"])
    with pytest.raises(psycopg2.errors.CheckViolation, match="cannot be revived"):
        run(test_db, f"UPDATE {TABLES[side]} SET deleted = false WHERE id = %s", row["id"])


@pytest.mark.parametrize(
    "assignment", ["status = 'lost'", """items = '[]'""", """items = '{"a": 1}'"""]
)
def test_constraints_hold_for_sql_writers_too(row, test_db, side, assignment):
    with pytest.raises(psycopg2.errors.CheckViolation):
        run(test_db, f"UPDATE {TABLES[side]} SET {assignment} WHERE id = %s", row["id"])


def test_api_and_sql_writes_share_one_version_sequence(client, test_db, side):
    order = client.post(PATHS[side], json=order_body(side)).json
    run(test_db, f"UPDATE {TABLES[side]} SET notes = 'via sql' WHERE id = %s", order["id"])
    response = client.get(f"{PATHS[side]}/{order['id']}")
    assert response.json["notes"] == "via sql"
    assert response.headers["ETag"] == '"2"'
