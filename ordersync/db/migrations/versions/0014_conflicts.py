"""The conflicts each sink decided: which field, both values and versions, who won and why.

Written by the sink in the transaction that applies the change; read by the API, the admin and
`flask conflicts`; purged after the retention (CONFLICT_RETENTION_DAYS).

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-07
"""

from alembic import op

from ordersync.db.migration_ops import create_conflict_table
from ordersync.db.roles import CONFLICT_TABLE

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade():
    create_conflict_table()


def downgrade():
    op.drop_table(CONFLICT_TABLE)
