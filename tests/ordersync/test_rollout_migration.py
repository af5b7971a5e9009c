"""A schema step as docs/schema-changes.md writes it, run by `flask db upgrade` for real."""

import shutil
import uuid

import psycopg2
import pytest
from alembic.script import ScriptDirectory

from ordersync.db import MIGRATIONS
from ordersync.db.roles import APP, OWNER, READER, SINK
from ordersync.sync.mapping import TABLES
from tests.support.db import connect, run, scratch_url
from tests.support.processes import run_module

MIGRATION = """
from alembic import op
from flask import current_app

from ordersync.db import rollout, triggers
from ordersync.sync.fieldkinds import Text
from ordersync.sync.mapping import SchemaVersion, SyncedField, field_set

revision, down_revision = "rollout_probe", {head!r}
STEP = SchemaVersion(
    2,
    add=(SyncedField("{name}", "store", Text(200, nullable=True),
                     columns={{"warehouse": "{name}_msg"}}),),
)


def upgrade():
    cursor = op.get_bind().connection.cursor()
    rollout.apply_step(cursor, current_app.config["SIDE"], STEP)


def downgrade():
    side = current_app.config["SIDE"]
    op.execute("DELETE FROM sync_schema WHERE version = 2")
    op.execute(triggers.create_sql(side, field_set(1)))
    op.execute(f"ALTER TABLE {{rollout.TABLES[side]}} DROP COLUMN {{STEP.add[0].column(side)}}")
"""


def flask_db(side: str, directory, command: str, *args: str):
    """Run `flask db COMMAND ARGS` on the side's test database as its owner, these migrations."""
    url = scratch_url(side, OWNER.name)
    return run_module(
        "flask",
        "--app",
        side,
        "db",
        command,
        "-d",
        str(directory),
        *args,
        env={"DATABASE_URL": url},
    )


@pytest.fixture
def migrations(tmp_path):
    """The product's migrations plus the schema step, in a scratch folder."""
    directory = tmp_path / "migrations"
    shutil.copytree(MIGRATIONS, directory, ignore=shutil.ignore_patterns("__pycache__"))
    head = ScriptDirectory(str(directory)).get_current_head()
    # a fresh field name: the clocks keep a retired field's versions, so a name is used once
    name = f"gift_{uuid.uuid4().hex[:8]}"
    migration = MIGRATION.format(head=head, name=name)
    (directory / "versions" / "9999_rollout_probe.py").write_text(migration)
    return directory, head, name


def test_a_schema_step_migrates_one_side_and_its_downgrade_undoes_it(apps, side, migrations):
    migrations, head, name = migrations
    column = name if side == "store" else f"{name}_msg"
    upgraded = flask_db(side, migrations, "upgrade")
    assert upgraded.returncode == 0, upgraded.stderr
    conn = connect(side, f"{side}_test", OWNER.name)
    try:
        newest = run(conn, "SELECT version, fields FROM sync_schema ORDER BY version DESC LIMIT 1")
        assert newest[0]["version"] == 2
        assert [f["name"] for f in newest[0]["fields"]][-1] == name
        # the regenerated trigger versions the new field like any other
        row = run(conn, f"SELECT id FROM {TABLES[side]} WHERE NOT deleted LIMIT 1")
        if row:
            bumped = run(
                conn,
                f"UPDATE {TABLES[side]} SET {column} = 'x' WHERE id = %s "
                "RETURNING field_versions->>%s AS v",
                row[0]["id"],
                name,
            )
            assert bumped == [{"v": "1"}]
    finally:
        downgraded = flask_db(side, migrations, "downgrade", head)
        columns = run(
            conn,
            "SELECT column_name FROM information_schema.columns WHERE table_name = %s",
            TABLES[side],
        )
        conn.close()
    assert downgraded.returncode == 0, downgraded.stderr
    assert column not in {c["column_name"] for c in columns}


@pytest.mark.parametrize("role", [APP.name, SINK.name, READER.name])
def test_only_migrations_write_the_schema_version(apps, side, role):
    # a session of the API, the sink or reconcile cannot move its side to another field set
    conn = connect(side, f"{side}_test", role)
    try:
        assert run(conn, "SELECT max(version) AS v FROM sync_schema")[0]["v"] >= 1
        for sql in (
            "INSERT INTO sync_schema (version, fields) VALUES (999, '[]')",
            "UPDATE sync_schema SET fields = '[]'",
            "DELETE FROM sync_schema",
        ):
            with pytest.raises(psycopg2.errors.InsufficientPrivilege):
                run(conn, sql)
    finally:
        conn.close()
