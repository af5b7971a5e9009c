"""Deferrable live-number rule, remembered purges, a role-trusting trigger, the publication.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-27
"""

from alembic import op
from flask import current_app

from ordersync.db import triggers
from ordersync.db.migration_ops import (
    create_publication,
    create_purged_table,
    live_number_constraint,
    make_live_numbers_deferrable,
    publication_name,
)
from ordersync.db.roles import PURGED_TABLE
from ordersync.sync.mapping import field_set

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade():
    side = current_app.config["SIDE"]
    create_purged_table()
    make_live_numbers_deferrable(side)
    op.execute(triggers.create_sql(side, field_set(1)))
    create_publication(side)


def downgrade():
    side = current_app.config["SIDE"]
    op.execute(f"DROP PUBLICATION IF EXISTS {publication_name(side)}")
    table = triggers.TABLES[side]
    op.execute(f"ALTER TABLE {table} DROP CONSTRAINT {live_number_constraint(side)}")
    op.create_index(
        live_number_constraint(side),
        table,
        ["order_number"],
        unique=True,
        postgresql_where="NOT deleted",
    )
    op.drop_table(PURGED_TABLE)
