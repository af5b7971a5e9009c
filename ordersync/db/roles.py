"""One PostgreSQL role per job, and exactly the privileges each job needs, declared once.

The launcher (and compose's setup job) creates the roles as the superuser, the owner runs the
migrations, then the grants below are applied by the owner. Nothing else logs in as a superuser.
"""

from dataclasses import dataclass

from psycopg2 import sql

from ordersync.sync.mapping import TABLES

PURGED_TABLE = "purged_order"
PARKED_TABLE = "sink_parked"
HEARTBEAT_TABLE = "debezium_heartbeat"
USER_TABLE = "user_account"
# the schema version each side syncs (ordersync/db/rollout.py); written by migrations alone
SCHEMA_TABLE = "sync_schema"
# the snapshots of the other side each sink applied (ordersync/db/migration_ops.py)
SNAPSHOT_TABLE = "sync_snapshot"
# the conflicts each sink decided (ordersync/db/conflicts.py)
CONFLICT_TABLE = "sync_conflict"


@dataclass(frozen=True)
class Role:
    """A login role: its name, what it is for, and role attributes beyond LOGIN."""

    name: str
    job: str
    attributes: str = ""


OWNER = Role("sync_owner", "owns the database and its tables; runs migrations and purges")
APP = Role("sync_app", "the REST API and admin: DML on its orders and users")
SINK = Role("sync_sink", "applies the other side's changes; the trigger trusts it alone")
DEBEZIUM = Role("sync_debezium", "reads the WAL and snapshots the captured tables", "REPLICATION")
READER = Role("sync_reader", "reconcile and status: read-only")
ROLES = (OWNER, APP, SINK, DEBEZIUM, READER)

# the replication-origin functions the sink calls (PostgreSQL revokes them from PUBLIC)
SINK_FUNCTIONS = (
    "pg_replication_origin_create(text)",
    "pg_replication_origin_oid(text)",
    "pg_replication_origin_session_setup(text)",
    "pg_replication_origin_session_reset()",
    "pg_replication_origin_drop(text)",
)


def role_statements(passwords: dict[str, str]) -> list:
    """Create or update every login role with its password (run as the superuser)."""
    statements = []
    for role in ROLES:
        name, password = sql.Identifier(role.name), sql.Literal(passwords[role.name])
        attributes = sql.SQL(role.attributes or "NOREPLICATION")
        statements.append(
            sql.SQL(
                "DO $$BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = {}) THEN "
                "CREATE ROLE {} LOGIN; END IF; END$$"
            ).format(sql.Literal(role.name), name)
        )
        statements.append(
            sql.SQL(
                "ALTER ROLE {} LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE {} PASSWORD {}"
            ).format(name, attributes, password)
        )
    return statements


def function_statements() -> list:
    """Let the sink use replication origins (run as the superuser in each database)."""
    return [
        sql.SQL(f"GRANT EXECUTE ON FUNCTION {function} TO {{}}").format(sql.Identifier(SINK.name))
        for function in SINK_FUNCTIONS
    ]


def grant_statements(side: str) -> list:
    """Grant each role its privileges on one side's tables (run as the owner after migrating)."""
    orders = sql.Identifier(TABLES[side])
    users, purged = sql.Identifier(USER_TABLE), sql.Identifier(PURGED_TABLE)
    heartbeat, parked = sql.Identifier(HEARTBEAT_TABLE), sql.Identifier(PARKED_TABLE)
    schema, snapshots = sql.Identifier(SCHEMA_TABLE), sql.Identifier(SNAPSHOT_TABLE)
    conflicts = sql.Identifier(CONFLICT_TABLE)
    app, sink = sql.Identifier(APP.name), sql.Identifier(SINK.name)
    debezium, reader = sql.Identifier(DEBEZIUM.name), sql.Identifier(READER.name)
    every = sql.SQL(", ").join(sql.Identifier(r.name) for r in ROLES if r is not OWNER)
    grant = sql.SQL
    return [
        # start from nothing, so a privilege removed here is removed from the database too
        grant("REVOKE ALL ON {}, {}, {}, {}, {}, {}, {}, {} FROM PUBLIC, {}").format(
            orders, users, purged, heartbeat, parked, schema, snapshots, conflicts, every
        ),
        grant("GRANT SELECT, INSERT, UPDATE, DELETE ON {}, {} TO {}").format(orders, users, app),
        grant("GRANT USAGE ON SEQUENCE user_account_id_seq TO {}").format(app),
        grant("GRANT SELECT, INSERT, UPDATE ON {} TO {}").format(orders, sink),
        grant("GRANT SELECT ON {} TO {}").format(purged, sink),
        grant("GRANT SELECT, INSERT, UPDATE, DELETE ON {} TO {}").format(parked, sink),
        grant("GRANT SELECT ON {}, {} TO {}").format(orders, heartbeat, debezium),
        grant("GRANT INSERT, UPDATE ON {} TO {}").format(heartbeat, debezium),
        grant("GRANT SELECT ON {}, {} TO {}").format(orders, purged, reader),
        grant("GRANT SELECT ON {} TO {}, {}, {}").format(schema, app, sink, reader),
        grant("GRANT SELECT, INSERT, UPDATE ON {} TO {}").format(snapshots, sink),
        grant("GRANT SELECT ON {} TO {}, {}").format(snapshots, app, reader),
        # the sink records what it decided and purges what is past retention; the rest only read
        grant("GRANT SELECT, INSERT, DELETE ON {} TO {}").format(conflicts, sink),
        grant("GRANT SELECT ON {} TO {}, {}").format(conflicts, app, reader),
    ]


def password_variable(role: Role) -> str:
    """The environment variable that holds a role's password (compose, production)."""
    return f"{role.name.upper()}_PASSWORD"


def setup_database(conn, database: str, passwords: dict[str, str]) -> None:
    """As the superuser, connected to `database`: roles, ownership, the sink's functions."""
    with conn.cursor() as cur:
        for statement in role_statements(passwords) + function_statements():
            cur.execute(statement)
        cur.execute(
            sql.SQL("ALTER DATABASE {} OWNER TO {}").format(
                sql.Identifier(database), sql.Identifier(OWNER.name)
            )
        )
        for statement in temporary_statements(database):
            cur.execute(statement)


def temporary_statements(database: str) -> list:
    """Temporary tables for the sink (its staging table) besides the owner; PostgreSQL grants all.

    A temporary object is searched before any schema: whoever may create one can stand it in
    for a table that SQL names without its schema.
    """
    db = sql.Identifier(database)
    return [
        sql.SQL("REVOKE TEMPORARY ON DATABASE {} FROM PUBLIC").format(db),
        sql.SQL("GRANT TEMPORARY ON DATABASE {} TO {}").format(db, sql.Identifier(SINK.name)),
    ]


def apply_grants(conn, side: str) -> None:
    """As the owner, after migrating: each role's privileges on the side's tables."""
    with conn.cursor() as cur:
        for statement in grant_statements(side):
            cur.execute(statement)


def main(argv: list[str] | None = None) -> None:
    """`python -m ordersync.db.roles setup|grant SIDE URL`: provision roles where no launcher runs.

    setup: URL is the superuser's, passwords come from SYNC_*_PASSWORD; grant: URL is the owner's.
    """
    import argparse
    import os

    import psycopg2

    parser = argparse.ArgumentParser(prog="python -m ordersync.db.roles", description=main.__doc__)
    parser.add_argument("step", choices=["setup", "grant"])
    parser.add_argument("side", choices=list(TABLES))
    parser.add_argument("url")
    args = parser.parse_args(argv)
    conn = psycopg2.connect(args.url)
    try:
        with conn:
            if args.step == "setup":
                passwords = {r.name: os.environ[password_variable(r)] for r in ROLES}
                setup_database(conn, conn.info.dbname, passwords)
            else:
                apply_grants(conn, args.side)
    finally:
        conn.close()


if __name__ == "__main__":
    main()
