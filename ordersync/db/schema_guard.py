"""Refuse a schema change that would break the sync contract, before PostgreSQL runs it.

A column is synced on a side when the field set that side's database syncs now (sync_schema)
or the latest declaration in ordersync/sync/mapping.py names it: code is deployed before the
migrations, so both must keep working. Statements are read with pglast (PostgreSQL's own parser);
what it cannot parse passes through, and PostgreSQL judges it.
"""

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import psycopg2.extensions
from alembic.util import CommandError
from pglast import ast, parse_sql
from pglast.enums import AlterTableType, ConstrType, ObjectType
from pglast.parser import ParseError
from sqlalchemy import event

from ordersync.db.roles import SCHEMA_TABLE
from ordersync.sync.mapping import LATEST, TABLES, FieldSet

GUIDE = "docs/schema-changes.md"
# what to do instead, per refused change
RETIRE = f"Retire the field first ({GUIDE})"
RETYPE = f"Add a field of the new type and retire this one ({GUIDE})"
NULLABLE = "Its declared kind is nullable: the other side may send null"
DEFAULT = "The other side's events may lack it: give it a default"


# constraints that keep null out of a column
NOT_NULL = {ConstrType.CONSTR_NOTNULL, ConstrType.CONSTR_PRIMARY}


class ContractViolation(ValueError):
    """A statement that would break the sync contract of a side's order table."""


@dataclass(frozen=True)
class Synced:
    """What the sync needs of a column: the schema version naming it, whether null is valid."""

    version: int
    nullable: bool


def synced_columns(side: str, *field_sets: FieldSet) -> dict[str, Synced]:
    """Map every column one of the field sets syncs on a side to what the sync needs of it."""
    synced: dict[str, Synced] = {}
    for fields in field_sets:
        for f in fields.fields:
            known = synced.get(f.column(side))
            # a column null may reach under any of the declarations must keep accepting null
            nullable = f.kind.nullable or (known is not None and known.nullable)
            version = known.version if known else fields.version
            synced[f.column(side)] = Synced(version, nullable)
    return synced


def read_contract(conn, side: str) -> dict[str, Synced]:
    """Read the columns a side syncs now, in the connection's transaction, plus the latest ones."""
    # rollout guards its own statements with this module: import it when first needed
    from ordersync.db import rollout

    with conn.cursor(cursor_factory=psycopg2.extensions.cursor) as cur:
        # before migration 0011 there is no table, and a failed SELECT would abort the transaction
        cur.execute("SELECT to_regclass(%s) IS NOT NULL", (SCHEMA_TABLE,))
        if not cur.fetchone()[0]:
            return synced_columns(side, LATEST)
        try:
            return synced_columns(side, rollout.read(cur), LATEST)
        except rollout.NoSchema:
            return synced_columns(side, LATEST)


def check_statement(sql: str, side: str, synced: dict[str, Synced]) -> None:
    """Raise ContractViolation when a statement in sql would break the side's sync contract."""
    try:
        statements = parse_sql(sql)
    except ParseError:
        return
    for raw in statements:
        problem = violation(raw.stmt, TABLES[side], synced)
        if problem:
            raise ContractViolation(problem)


def violation(stmt, table: str, synced: dict[str, Synced]) -> str | None:
    """Say why one parsed statement breaks the contract of the order table, or None."""
    if isinstance(stmt, ast.AlterTableStmt) and stmt.objtype == ObjectType.OBJECT_TABLE:
        if is_table(stmt.relation, table):
            problems = (alter_violation(cmd, table, synced) for cmd in stmt.cmds)
            return next(filter(None, problems), None)
    elif isinstance(stmt, ast.RenameStmt) and is_table(stmt.relation, table):
        return rename_violation(stmt, table, synced)
    elif isinstance(stmt, ast.AlterObjectSchemaStmt) and stmt.objectType == ObjectType.OBJECT_TABLE:
        if is_table(stmt.relation, table):
            return table_refusal(table, "moving it to another schema")
    elif isinstance(stmt, ast.DropStmt) and stmt.removeType == ObjectType.OBJECT_TABLE:
        if any(is_named(tuple(name.sval for name in names), table) for names in stmt.objects):
            return table_refusal(table, "dropping it")
    return None


def alter_violation(cmd, table: str, synced: dict[str, Synced]) -> str | None:
    """Say why one ALTER TABLE action on the order table breaks the contract, or None."""
    kind = cmd.subtype
    if kind == AlterTableType.AT_AddColumn:
        return add_violation(cmd.def_, table, synced)
    column = synced.get(cmd.name)
    if column is None:
        return None
    if kind == AlterTableType.AT_DropColumn:
        return refusal(table, cmd.name, column, "dropping it", RETIRE)
    if kind == AlterTableType.AT_AlterColumnType:
        return refusal(table, cmd.name, column, "changing its type in place", RETYPE)
    if kind == AlterTableType.AT_SetNotNull and column.nullable:
        return refusal(table, cmd.name, column, "making it NOT NULL", NULLABLE)
    return None


def add_violation(definition, table: str, synced: dict[str, Synced]) -> str | None:
    """Say why adding a column breaks the contract, or None."""
    column = synced.get(definition.colname)
    kinds = {c.contype for c in definition.constraints or ()}
    not_null = definition.is_not_null or kinds & NOT_NULL
    if not not_null:
        return None
    if column is None:
        if ConstrType.CONSTR_DEFAULT in kinds:
            return None
        # a local column too: the sink inserts the other side's new orders without it
        return (
            f"refused: {table}.{definition.colname} NOT NULL without a DEFAULT; the sink inserts "
            f"orders from the other side without it. Give it a DEFAULT or let it be null"
        )
    if column.nullable:
        return refusal(table, definition.colname, column, "adding it NOT NULL", NULLABLE)
    if ConstrType.CONSTR_DEFAULT not in kinds:
        doing = "adding it NOT NULL without a DEFAULT"
        return refusal(table, definition.colname, column, doing, DEFAULT)
    return None


def rename_violation(stmt, table: str, synced: dict[str, Synced]) -> str | None:
    """Say why renaming the order table or one of its synced columns breaks the contract."""
    if stmt.renameType == ObjectType.OBJECT_TABLE:
        return table_refusal(table, "renaming it")
    column = synced.get(stmt.subname)
    if stmt.renameType == ObjectType.OBJECT_COLUMN and column is not None:
        return refusal(table, stmt.subname, column, "renaming it", RETIRE)
    return None


def is_table(relation, table: str) -> bool:
    """Whether a RangeVar names the order table (unqualified or in schema public)."""
    return relation.relname == table and relation.schemaname in (None, "public")


def is_named(names: tuple[str, ...], table: str) -> bool:
    """Whether a qualified name ([catalog.][schema.]name) names the order table."""
    return names[-1] == table and (len(names) == 1 or names[-2] == "public")


def refusal(table: str, name: str, column: Synced, doing: str, remedy: str) -> str:
    """The message refusing a change to one synced column."""
    return (
        f"refused: {table}.{name} is synced at schema version {column.version}; "
        f"{doing} breaks the sync. {remedy}"
    )


def table_refusal(table: str, doing: str) -> str:
    """The message refusing a change to the order table itself."""
    return f"refused: {table} is the synced order table; {doing} breaks the sync ({GUIDE})"


def guarded_execute(cur, side: str, sql: str, params=None) -> None:
    """Execute a statement on a psycopg2 cursor unless it breaks the side's sync contract."""
    check_statement(cur.mogrify(sql, params).decode(), side, read_contract(cur.connection, side))
    cur.execute(sql, params)


class Guard:
    """Checks each statement of one SQLAlchemy connection, reading the contract on it lazily."""

    def __init__(self, side: str):
        self.side = side
        self.synced: dict[str, Synced] | None = None

    def before_cursor_execute(self, conn, cursor, statement, parameters, context, executemany):
        """Refuse a statement that breaks the contract: it never reaches PostgreSQL."""
        # what PostgreSQL would receive, placeholders filled in (a many-rows DML needs no check)
        sql = statement if executemany else cursor.mogrify(statement, parameters).decode()
        if self.synced is None:
            # on the DBAPI connection, so the guard's own SELECT is not guarded
            self.synced = read_contract(cursor.connection, self.side)
        check_statement(sql, self.side, self.synced)
        if SCHEMA_TABLE in sql.lower():
            # the statement may move the schema version: read it again before the next one
            self.synced = None


@contextmanager
def guarding(connection, side: str) -> Iterator[None]:
    """Guard every statement of a migration connection; a refusal becomes Alembic's error."""
    guard = Guard(side)
    event.listen(connection, "before_cursor_execute", guard.before_cursor_execute)
    try:
        yield
    except ContractViolation as error:
        # Flask-Migrate reports a CommandError as one line on stderr and exits 1
        raise CommandError(str(error)) from error
    finally:
        event.remove(connection, "before_cursor_execute", guard.before_cursor_execute)
