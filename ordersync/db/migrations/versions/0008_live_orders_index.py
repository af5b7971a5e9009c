"""An index of the live orders, newest first: the API's list and its count read only these.

The list counted every row, tombstones included, on each page (a sequential scan that grew with
every delete ever synced); the count and the page now read this partial index.

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-27
"""

import sqlalchemy as sa
from alembic import op
from flask import current_app

from ordersync.sync.mapping import TABLES

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def name(table: str) -> str:
    """The index's name."""
    return f"{table}_live_newest"


def upgrade():
    table = TABLES[current_app.config["SIDE"]]
    op.create_index(
        name(table),
        table,
        [sa.text("created_at DESC"), "id"],
        postgresql_where=sa.text("NOT deleted"),
    )


def downgrade():
    table = TABLES[current_app.config["SIDE"]]
    op.drop_index(name(table), table_name=table)
