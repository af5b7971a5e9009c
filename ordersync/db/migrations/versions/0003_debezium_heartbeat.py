"""Create debezium_heartbeat, written by the connector's heartbeat action query.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-26
"""

from alembic import op

from ordersync.db.migration_ops import HEARTBEAT_TABLE, create_heartbeat_table

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade():
    create_heartbeat_table()


def downgrade():
    op.drop_table(HEARTBEAT_TABLE)
