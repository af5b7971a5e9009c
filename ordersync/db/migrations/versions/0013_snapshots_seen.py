"""The snapshots a sink has absorbed from the other side: when each began and how many rows.

Debezium takes a snapshot on a connector's first start and again whenever its stream position
is lost (snapshot.mode=when_needed); `make status` reports the re-snapshots from this table.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-07
"""

from alembic import op

from ordersync.db.migration_ops import create_snapshot_table
from ordersync.db.roles import SNAPSHOT_TABLE

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade():
    create_snapshot_table()


def downgrade():
    op.drop_table(SNAPSHOT_TABLE)
