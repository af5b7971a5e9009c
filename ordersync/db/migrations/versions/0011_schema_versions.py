"""Each side records the schema version it syncs, with that version's field set.

The sink, reconcile and status read it (ordersync/db/rollout.py), so that the two sides can move to
a new order model one at a time. Version 1 is the field set every earlier revision synced; the
trigger is regenerated from it (the same function as before).

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-06
"""

from alembic import op
from flask import current_app

from ordersync.db import rollout, triggers
from ordersync.sync.mapping import field_set

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade():
    side = current_app.config["SIDE"]
    op.execute(rollout.CREATE_TABLE)
    op.execute(rollout.record_sql(field_set(1)))
    op.execute(triggers.create_sql(side, field_set(1)))


def downgrade():
    op.drop_table(rollout.SCHEMA_TABLE)
