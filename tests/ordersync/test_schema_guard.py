"""The schema guard: statements that would break the sync contract never reach PostgreSQL."""

import shutil

import psycopg2.extensions
import pytest
import sqlalchemy as sa
from alembic.script import ScriptDirectory
from alembic.util import CommandError

from ordersync.db import MIGRATIONS, rollout, schema_guard
from ordersync.db.roles import OWNER, SCHEMA_TABLE
from ordersync.db.schema_guard import ContractViolation, Synced, check_statement, synced_columns
from ordersync.sync.fieldkinds import Flag, Text
from ordersync.sync.mapping import (
    LATEST,
    STORE,
    TABLES,
    TOMBSTONE,
    SchemaVersion,
    SyncedField,
    columns,
    field_set,
)
from tests.support.db import connect, run, scratch_url, sqlalchemy
from tests.support.processes import run_module

# version 2 of the store: two new fields, and notes retired
V2 = field_set(1).after(
    SchemaVersion(
        2,
        add=(
            SyncedField("gift_note", STORE, Text(10), default="none"),
            SyncedField("gift_wrap", STORE, Flag(nullable=True)),
        ),
        retire=("notes",),
    )
)
SYNCED = synced_columns(STORE, V2)
SYNCED_V1 = synced_columns(STORE, field_set(1))


@pytest.mark.parametrize(
    "sql, rule",
    [
        ("ALTER TABLE store_order ADD COLUMN gift_note varchar(10) NOT NULL", "without a DEFAULT"),
        ("ALTER TABLE store_order ADD gift_wrap boolean NOT NULL DEFAULT false", "NOT NULL"),
        ("ALTER TABLE store_order ALTER COLUMN tracking_number SET NOT NULL", "nullable"),
        ("ALTER TABLE store_order ALTER COLUMN status TYPE text", "changing its type"),
        ("ALTER TABLE store_order ALTER status SET DATA TYPE varchar(20)", "changing its type"),
        ("ALTER TABLE store_order DROP COLUMN order_number", "dropping it"),
        ("ALTER TABLE IF EXISTS ONLY public.store_order DROP IF EXISTS status", "dropping it"),
        ("ALTER TABLE store_order RENAME COLUMN status TO state", "renaming it"),
        ("ALTER TABLE public.store_order RENAME status TO state", "renaming it"),
        ("ALTER TABLE store_order ADD COLUMN n int, DROP COLUMN items", "dropping it"),
        ("CREATE INDEX ON user_account (username); ALTER TABLE store_order DROP items", "dropping"),
    ],
)
def test_a_change_to_a_synced_column_is_refused(sql, rule):
    with pytest.raises(ContractViolation, match=rf"^refused: store_order\.\w+ is synced.*{rule}"):
        check_statement(sql, STORE, SYNCED)


@pytest.mark.parametrize(
    "sql",
    [
        "DROP TABLE store_order",
        "DROP TABLE IF EXISTS purged_order, public.store_order CASCADE",
        "ALTER TABLE store_order RENAME TO orders",
        "ALTER TABLE IF EXISTS store_order SET SCHEMA archive",
    ],
)
def test_dropping_or_renaming_the_order_table_is_refused(sql):
    with pytest.raises(ContractViolation, match="^refused: store_order is the synced order table"):
        check_statement(sql, STORE, SYNCED)


@pytest.mark.parametrize(
    "sql",
    [
        "ALTER TABLE store_order ADD COLUMN gift_wrap boolean",
        "ALTER TABLE store_order ADD COLUMN gift_note varchar(10) NOT NULL DEFAULT 'none'",
        "ALTER TABLE store_order ADD COLUMN loyalty_points integer NOT NULL DEFAULT 0",
        "ALTER TABLE store_order ALTER COLUMN status SET NOT NULL",
        "ALTER TABLE store_order ALTER COLUMN status SET DEFAULT 'processing'",
        "ALTER TABLE store_order DROP COLUMN notes",
        "ALTER TABLE store_order RENAME COLUMN currency TO currency_code",
        "ALTER TABLE store_order RENAME CONSTRAINT store_order_status_check TO status_check",
        "ALTER TABLE warehouse_order DROP COLUMN status",
        "ALTER TABLE archive.store_order DROP COLUMN status",
        "ALTER TABLE user_account DROP COLUMN status; DROP TABLE purged_order",
        "DROP INDEX store_order_created_at",
        "CREATE VIEW v AS SELECT status FROM store_order",
        "CREATE FUNCTION f() RETURNS void LANGUAGE plpgsql AS $$ BEGIN "
        "ALTER TABLE store_order DROP COLUMN status; END $$",
        "ALTER TABLE store_order DROP COLUMN %(name)s",
        "this is not SQL",
    ],
)
def test_other_statements_pass(sql):
    check_statement(sql, STORE, SYNCED)


def test_the_message_names_table_column_version_and_remedy():
    with pytest.raises(ContractViolation) as refused:
        check_statement("ALTER TABLE store_order DROP notes", STORE, SYNCED_V1)
    assert str(refused.value) == (
        "refused: store_order.notes is synced at schema version 1; dropping it "
        "breaks the sync. Retire the field first (docs/schema-changes.md)"
    )


def test_each_side_guards_its_own_columns():
    warehouse = synced_columns("warehouse", field_set(1))
    with pytest.raises(ContractViolation, match="warehouse_order.recipient_name"):
        check_statement("ALTER TABLE warehouse_order DROP recipient_name", "warehouse", warehouse)
    check_statement("ALTER TABLE warehouse_order DROP customer_name", "warehouse", warehouse)
    check_statement("ALTER TABLE store_order DROP status", "warehouse", warehouse)


def test_a_column_is_synced_while_any_declaration_names_it():
    synced = synced_columns(STORE, V2, field_set(1))
    assert synced["notes"] == Synced(1, True)
    assert synced["gift_wrap"] == Synced(2, True)
    assert synced["status"] == Synced(2, False)


# --- on the test databases


@pytest.fixture
def owner(apps, side):
    """The owner on the side's test database, in a transaction rolled back at the end."""
    conn = connect(side, f"{side}_test", OWNER.name)
    conn.autocommit = False
    yield conn
    conn.rollback()
    conn.close()


@pytest.fixture
def engine(apps, side):
    """A SQLAlchemy engine on the side's test database as the owner (who runs migrations)."""
    engine = sa.create_engine(sqlalchemy(scratch_url(side, OWNER.name)))
    yield engine
    engine.dispose()


def order_columns(conn, side: str) -> set[str]:
    """The column names of the side's order table, as this connection sees them."""
    sql = "SELECT column_name FROM information_schema.columns WHERE table_name = %s"
    with conn.cursor(cursor_factory=psycopg2.extensions.cursor) as cur:
        cur.execute(sql, (TABLES[side],))
        return {row[0] for row in cur.fetchall()}


def test_a_refused_statement_never_reaches_postgresql(engine, side):
    table, column = TABLES[side], columns(side)["customer_name"]
    with engine.connect() as conn:
        with pytest.raises(CommandError, match=f"{table}.{column} is synced"):
            with schema_guard.guarding(conn, side):
                conn.exec_driver_sql(f"ALTER TABLE {table} ADD COLUMN guard_probe text")
                conn.exec_driver_sql(f"ALTER TABLE public.{table} DROP COLUMN {column}")
        # the transaction is not aborted, as a statement PostgreSQL refused would leave it
        seen = order_columns(conn.connection.dbapi_connection, side)
        conn.rollback()
    assert {column, "guard_probe"} <= seen


def test_the_guard_reads_the_schema_again_after_a_statement_writes_it(engine, owner, side):
    table = TABLES[side]
    probe = SyncedField("guard_probe", side, Text(10, nullable=True))
    current = rollout.read(owner.cursor(cursor_factory=psycopg2.extensions.cursor))
    moved = current.after(SchemaVersion(current.version + 1, add=(probe,)))
    with engine.connect() as conn:
        with pytest.raises(
            CommandError, match=f"guard_probe is synced at schema version {moved.version}"
        ):
            with schema_guard.guarding(conn, side):
                conn.exec_driver_sql(f"ALTER TABLE {table} ADD COLUMN guard_probe varchar(10)")
                conn.exec_driver_sql(rollout.record_sql(moved))
                conn.exec_driver_sql(f"ALTER TABLE {table} ALTER guard_probe SET NOT NULL")
        conn.rollback()


@pytest.mark.parametrize(
    "hide", [f"DELETE FROM {SCHEMA_TABLE}", f"ALTER TABLE {SCHEMA_TABLE} RENAME TO hidden"]
)
def test_without_a_recorded_schema_only_the_latest_declaration_counts(owner, side, hide):
    run(owner, hide)
    assert schema_guard.read_contract(owner, side) == synced_columns(side, LATEST)


def test_guarded_execute_refuses_before_executing(owner, side):
    table, column = TABLES[side], TOMBSTONE
    with pytest.raises(ContractViolation, match=f"{table}.{column}"):
        schema_guard.guarded_execute(owner.cursor(), side, f"ALTER TABLE {table} DROP {column}")
    schema_guard.guarded_execute(
        owner.cursor(), side, f"ALTER TABLE {table} ADD guard_probe text DEFAULT %s", ("x",)
    )
    assert {column, "guard_probe"} <= order_columns(owner, side)


def test_flask_db_upgrade_refuses_a_migration_that_breaks_the_sync(apps, side, tmp_path):
    table, column = TABLES[side], TOMBSTONE
    directory = tmp_path / "migrations"
    shutil.copytree(MIGRATIONS, directory, ignore=shutil.ignore_patterns("__pycache__"))
    head = ScriptDirectory(str(directory)).get_current_head()
    (directory / "versions" / "9999_breaks_the_sync.py").write_text(
        f"from alembic import op\n"
        f"revision, down_revision = 'guard_probe', {head!r}\n"
        f"def upgrade():\n"
        f"    op.execute('ALTER TABLE {table} ADD COLUMN guard_probe text')\n"
        f"    op.execute('ALTER TABLE {table} ALTER COLUMN {column} TYPE text')\n"
        # should the guard let it through, the migration still does not commit
        f"    raise RuntimeError('the guard let it through')\n"
    )
    url = scratch_url(side, OWNER.name)
    result = run_module(
        "flask", "--app", side, "db", "upgrade", "-d", str(directory), env={"DATABASE_URL": url}
    )
    assert result.returncode == 1
    assert f"refused: {table}.{column} is synced" in result.stderr
    conn = connect(side, f"{side}_test", OWNER.name)
    assert run(conn, "SELECT version_num FROM alembic_version") == [{"version_num": head}]
    assert "guard_probe" not in order_columns(conn, side)
    conn.close()


def test_a_local_column_not_null_without_a_default_is_refused():
    # the sink inserts the other side's new orders without it
    with pytest.raises(ContractViolation, match="loyalty_points NOT NULL without a DEFAULT"):
        check_statement(
            "ALTER TABLE store_order ADD COLUMN loyalty_points integer NOT NULL", STORE, SYNCED
        )
