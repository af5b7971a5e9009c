"""Schema steps the two services' migrations share, frozen per schema revision."""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

from ordersync.db import triggers
from ordersync.db.models import ITEMS_CHECK, STATUS_CHECK
from ordersync.db.roles import (
    CONFLICT_TABLE,
    HEARTBEAT_TABLE,
    PARKED_TABLE,
    PURGED_TABLE,
    SNAPSHOT_TABLE,
)
from ordersync.sync.mapping import TABLES, field_set


def order_columns_v1() -> list[sa.Column]:
    """The columns every order table had at revision 1."""
    now = sa.text("now()")
    return [
        sa.Column("id", sa.Uuid(), primary_key=True),
        sa.Column("order_number", sa.String(32), nullable=False),
        sa.Column("shipping_address", sa.String(500), nullable=False),
        sa.Column("items", postgresql.JSONB(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False, server_default="pending"),
        sa.Column("tracking_number", sa.String(64)),
        sa.Column("notes", sa.String(2000)),
        sa.Column("deleted", sa.Boolean(), nullable=False, server_default=sa.false()),
        sa.Column("sync_origin", sa.String(16), nullable=False),
        sa.Column("field_versions", postgresql.JSONB(), nullable=False, server_default="{}"),
        sa.Column("version", sa.Integer(), nullable=False, server_default="1"),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=now),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False, server_default=now),
    ]


def create_order_table(side: str, *columns: sa.Column) -> None:
    """Create one side's order table with its constraints, full replica identity and trigger."""
    table = TABLES[side]
    op.create_table(
        table,
        *order_columns_v1(),
        *columns,
        sa.CheckConstraint(STATUS_CHECK, name=f"{table}_status_check"),
        sa.CheckConstraint(ITEMS_CHECK, name=f"{table}_items_check"),
    )
    op.create_index(
        f"{table}_order_number_live",
        table,
        ["order_number"],
        unique=True,
        postgresql_where=sa.text("NOT deleted"),
    )
    op.create_index(f"{table}_created_at", table, ["created_at"])
    # delete events then carry the whole old row, not just the key
    op.execute(f"ALTER TABLE {table} REPLICA IDENTITY FULL")
    op.execute(triggers.create_sql(side, field_set(1)))


def drop_order_table(side: str) -> None:
    """Drop one side's order table and its trigger function."""
    op.execute(triggers.drop_sql(side))
    op.drop_table(TABLES[side])


def create_user_table() -> None:
    """Create the table of this service's logins (never captured: not an order table)."""
    op.create_table(
        "user_account",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("username", sa.String(64), nullable=False, unique=True),
        sa.Column("password_hash", sa.String(255), nullable=False),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False, server_default=sa.true()),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            nullable=False,
            server_default=sa.text("now()"),
        ),
        sa.CheckConstraint("role IN ('viewer', 'editor', 'admin')", name="role_check"),
    )


def create_heartbeat_table() -> None:
    """A one-row table Debezium's heartbeat writes to, so the slot advances on a quiet database."""
    op.create_table(
        HEARTBEAT_TABLE,
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("beat_at", sa.DateTime(timezone=True), nullable=False),
    )


def live_number_constraint(side: str) -> str:
    """Name of the rule that no two live orders share an order number."""
    return f"{TABLES[side]}_order_number_live"


def make_live_numbers_deferrable(side: str) -> None:
    """Turn the unique index on live order numbers into a deferrable exclusion constraint.

    A partial unique index is checked row by row, so a batch that swaps two orders' numbers
    (A→TMP, B→N1, A→N2 folded into one upsert) fails halfway. The sink defers this constraint to
    its commit, when the batch's end state is checked as a whole; everyone else is checked at
    once (INITIALLY IMMEDIATE), so the API still answers a duplicate with 409 straight away.
    """
    table, name = TABLES[side], live_number_constraint(side)
    op.drop_index(name, table_name=table)
    op.execute(
        f"ALTER TABLE {table} ADD CONSTRAINT {name} EXCLUDE USING btree (order_number WITH =) "
        "WHERE (NOT deleted) DEFERRABLE INITIALLY IMMEDIATE"
    )


def create_purged_table() -> None:
    """Remember the ids the owner purged, so the sink never brings them back."""
    op.create_table(
        PURGED_TABLE,
        sa.Column("id", sa.Uuid(), primary_key=True),
        sa.Column(
            "purged_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.text("now()")
        ),
    )


def create_parked_table() -> None:
    """Changes a sink replica parked, so the replica holding their partner can apply both at once.

    Two orders that swap numbers in one statement travel on two partitions: with two replicas,
    neither half can commit alone. Not published: it never leaves its database.
    """
    op.create_table(
        PARKED_TABLE,
        sa.Column("consumer_group", sa.String(200), primary_key=True),
        sa.Column("topic", sa.String(249), primary_key=True),
        sa.Column("kafka_partition", sa.Integer(), primary_key=True),
        sa.Column("kafka_offset", sa.BigInteger(), primary_key=True),
        sa.Column("event", sa.LargeBinary(), nullable=False),
        sa.Column(
            "parked_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.text("now()")
        ),
    )


def create_snapshot_table() -> None:
    """One row per snapshot of the other side the sink applied: a run is its snapshot's LSN.

    Not published: it never leaves its database.
    """
    now = sa.text("now()")
    op.create_table(
        SNAPSHOT_TABLE,
        sa.Column("source", sa.String(16), primary_key=True),
        # every record of one Debezium snapshot carries the LSN the snapshot was taken at
        sa.Column("lsn", sa.BigInteger(), primary_key=True),
        sa.Column("first_seen", sa.DateTime(timezone=True), nullable=False, server_default=now),
        sa.Column("last_seen", sa.DateTime(timezone=True), nullable=False, server_default=now),
        sa.Column("records", sa.BigInteger(), nullable=False, server_default="0"),
        sa.CheckConstraint("source IN ('store', 'warehouse')", name="snapshot_source_known"),
        sa.CheckConstraint("lsn >= 0 AND records >= 0", name="snapshot_counts_sane"),
    )


def create_conflict_table() -> None:
    """One row per conflict a sink decided here: both values and versions, who won and why.

    Not published: it never leaves its database. A decision is recorded once, however often its
    events are replayed: one field's pair of versions meets only once on one side (versions only
    grow), whatever offsets a replay or a re-snapshot gives its events.
    """
    now = sa.text("now()")
    op.create_table(
        CONFLICT_TABLE,
        sa.Column("id", sa.BigInteger(), sa.Identity(always=True), primary_key=True),
        sa.Column("order_id", sa.Uuid(), nullable=False),
        sa.Column("field", sa.String(63), nullable=False),
        sa.Column("local_value", postgresql.JSONB(), nullable=False),
        sa.Column("local_version", sa.BigInteger(), nullable=False),
        sa.Column("incoming_value", postgresql.JSONB(), nullable=False),
        sa.Column("incoming_version", sa.BigInteger(), nullable=False),
        sa.Column("winner", sa.String(8), nullable=False),
        sa.Column("rule", sa.String(16), nullable=False),
        sa.Column("source_topic", sa.String(249), nullable=False),
        sa.Column("source_partition", sa.Integer(), nullable=False),
        sa.Column("source_offset", sa.BigInteger(), nullable=False),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=False, server_default=now),
        sa.CheckConstraint("winner IN ('local', 'incoming')", name="conflict_winner_known"),
        sa.CheckConstraint("rule IN ('newer_version', 'owner_tie')", name="conflict_rule_known"),
        sa.UniqueConstraint(
            "order_id", "field", "local_version", "incoming_version", name="conflict_decided_once"
        ),
    )
    # an order's conflicts newest first (the API, the admin); the purge and the list by time
    op.create_index("conflict_order_newest", CONFLICT_TABLE, ["order_id", "decided_at", "id"])
    op.create_index("conflict_decided_at", CONFLICT_TABLE, ["decided_at", "id"])


def publication_name(side: str) -> str:
    """The publication Debezium streams from (created here: Debezium may not create it)."""
    return f"{side}_cdc"


def create_publication(side: str) -> None:
    """Publish the order table and the heartbeat table, unless a publication already exists."""
    name = publication_name(side)
    op.execute(
        f"DO $$BEGIN IF NOT EXISTS (SELECT FROM pg_publication WHERE pubname = '{name}') THEN "
        f"CREATE PUBLICATION {name} FOR TABLE {TABLES[side]}, {HEARTBEAT_TABLE}; END IF; END$$"
    )
