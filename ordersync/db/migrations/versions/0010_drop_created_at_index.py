"""Drop the plain index on created_at: no query reads it, and every write paid for it.

The list and the admin sort live orders by (created_at DESC, id) through revision 0008's partial
index; nothing filters or sorts all rows, tombstones included, by creation time. Each insert (API,
admin, SQL or the sink's upsert) maintained this index for nothing.

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-28
"""

from alembic import op
from flask import current_app

from ordersync.sync.mapping import TABLES

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def name(table: str) -> str:
    """The index's name, as revision 0001 made it."""
    return f"{table}_created_at"


def upgrade():
    table = TABLES[current_app.config["SIDE"]]
    op.drop_index(name(table), table_name=table, if_exists=True)


def downgrade():
    table = TABLES[current_app.config["SIDE"]]
    op.create_index(name(table), table, ["created_at"])
