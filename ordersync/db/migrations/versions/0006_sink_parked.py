"""The sink replicas' shared parking lot: changes refused for a number clash, awaiting a partner.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-27
"""

from alembic import op

from ordersync.db.migration_ops import create_parked_table
from ordersync.db.roles import PARKED_TABLE

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade():
    create_parked_table()


def downgrade():
    op.drop_table(PARKED_TABLE)
