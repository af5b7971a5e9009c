"""Schema versions in a side's database: which field set it syncs, and the step to the next one.

Each side's table `sync_schema` keeps one row per schema version it reached, with the field set
of that version as declared in ordersync/sync/mapping.py. The sink, reconcile and status read the
newest row, so a side moves to a new version with one migration and nothing else redeployed.
"""

import json

from ordersync.db import triggers
from ordersync.db.roles import SCHEMA_TABLE
from ordersync.sync.mapping import (
    CLOCK_COLUMN,
    LATEST,
    TABLES,
    FieldSet,
    SchemaVersion,
    SyncedField,
)

CREATE_TABLE = f"""
CREATE TABLE {SCHEMA_TABLE} (
  version integer PRIMARY KEY CHECK (version > 0),
  fields jsonb NOT NULL CHECK (jsonb_typeof(fields) = 'array'),
  applied_at timestamptz NOT NULL DEFAULT now()
)
"""

CURRENT = f"SELECT version, fields FROM {SCHEMA_TABLE} ORDER BY version DESC LIMIT 1"


class NoSchema(RuntimeError):
    """The database records no usable schema version (migrations not run, or a bad row)."""


def read(cur) -> FieldSet:
    """Return the field set a side's database syncs now (its newest schema version)."""
    cur.execute(CURRENT)
    row = cur.fetchone()
    if row is None:
        raise NoSchema(f"{SCHEMA_TABLE} is empty: run the migrations")
    try:
        fields = json.loads(row[1]) if isinstance(row[1], str) else row[1]
        return FieldSet.from_json(row[0], fields)
    except ValueError as error:  # a row no migration of ours wrote
        raise NoSchema(f"{SCHEMA_TABLE} version {row[0]} is malformed: {error}") from error


def record_sql(fields: FieldSet) -> str:
    """The statement that records a field set as the database's newest schema version."""
    document = json.dumps(fields.to_json()).replace("'", "''")
    return (
        f"INSERT INTO {SCHEMA_TABLE} (version, fields) "
        f"VALUES ({fields.version}, '{document}'::jsonb)"
    )


def literal(value) -> str:
    """A SQL literal of a declared default (checked by the field's kind, so a plain value)."""
    if value is None:
        return "NULL"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, str):
        return "'" + value.replace("'", "''") + "'"
    return "'" + json.dumps(value).replace("'", "''") + "'::jsonb"


def add_column_sql(side: str, f: SyncedField) -> str:
    """Add a synced field's column: nullable, or NOT NULL with its default (no table rewrite)."""
    table, column = TABLES[side], f.column(side)
    sql = f"ALTER TABLE {table} ADD COLUMN {column} {f.kind.sql_type()}"
    if f.default is not None:
        sql += f" DEFAULT {literal(f.default)}"
    if not f.kind.nullable:
        sql += " NOT NULL"
    check = f.kind.sql_check(column)
    if check:
        sql += f" CONSTRAINT {table}_{column}_check CHECK ({check})"
    return sql


def unused_name_sql(side: str, f: SyncedField) -> str:
    """Refuse to add a field whose name clocks still hold (a retired field's versions).

    Its clock would start from the old field's versions, differently on each side, and a tie
    or a lower version would then lose a write.
    """
    table = TABLES[side]
    return (
        f"DO $$ BEGIN IF EXISTS (SELECT FROM {table} WHERE {CLOCK_COLUMN} ? '{f.name}') THEN "
        f"RAISE EXCEPTION 'refused: {table}.{CLOCK_COLUMN} still holds versions of a field "
        f"named {f.name} (retired earlier): declare the new field under another name' "
        f"USING ERRCODE = 'check_violation'; END IF; END $$"
    )


def step_sql(side: str, current: FieldSet, step: SchemaVersion) -> list[str]:
    """The statements that take one side from its current field set through a schema step.

    A retired field keeps its column (drop it in a later migration, once no side syncs it).
    """
    after = current.after(step)
    return [
        *(unused_name_sql(side, f) for f in step.add),
        *(add_column_sql(side, f) for f in step.add),
        record_sql(after),
        triggers.create_sql(side, after),
    ]


def describe(found: dict[str, FieldSet], declared: int) -> tuple[str, bool]:
    """Say which schema version each side syncs and what a rollout still has to do.

    Returns the sentence and whether the sides are mid-rollout (their field sets differ, or a
    side is behind the declared latest version).
    """
    versions = ", ".join(f"{side} {fields.version}" for side, fields in found.items())
    notes = []
    for side, fields in found.items():
        others = [o for o in found.values() if o is not fields]
        only = [n for n in fields.names if all(n not in o.names for o in others)]
        if only:
            notes.append(f"{', '.join(only)} synced by {side} only")
    behind = [side for side, fields in found.items() if fields.version < declared]
    if behind:
        notes.append(f"declared {declared}: migrate {' and '.join(behind)}")
    sentence = f"{versions}" + (f"; mid-rollout: {'; '.join(notes)}" if notes else "")
    return sentence, bool(notes)


def apply_step(cur, side: str, step: SchemaVersion) -> FieldSet:
    """Take one side's database through a schema step, in the caller's transaction, as its owner.

    What a migration of a new schema version runs (through Alembic's connection), and what a
    test's own migration runs. Returns the side's new field set.
    """
    # imported here: the parser behind the guard weighs ~30 MB, and the sink reads this module
    from ordersync.db import schema_guard

    current = read(cur)
    after = current.after(step)
    # checked against both field sets and the code's: what the step adds is synced already
    contract = schema_guard.synced_columns(side, current, after, LATEST)
    for statement in step_sql(side, current, step):
        schema_guard.check_statement(statement, side, contract)
        cur.execute(statement)
    return after
