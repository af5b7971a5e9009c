"""Create user_account for API tokens and the admin dashboard.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-26
"""

from alembic import op

from ordersync.db.migration_ops import create_user_table

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade():
    create_user_table()


def downgrade():
    op.drop_table("user_account")
