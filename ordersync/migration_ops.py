"""Schema steps the two services' migrations share, frozen per schema revision."""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

from ordersync import triggers
from ordersync.mapping import TABLES
from ordersync.models import ITEMS_CHECK, STATUS_CHECK


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
    op.execute(triggers.create_sql(side))


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


HEARTBEAT_TABLE = "debezium_heartbeat"


def create_heartbeat_table() -> None:
    """A one-row table Debezium's heartbeat writes to, so the slot advances on a quiet database."""
    op.create_table(
        HEARTBEAT_TABLE,
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("beat_at", sa.DateTime(timezone=True), nullable=False),
    )
