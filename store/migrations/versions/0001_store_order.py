"""Create store_order with its sync bookkeeping and versioning trigger.

Revision ID: 0001
Revises:
Create Date: 2026-11-26
"""

import sqlalchemy as sa

from ordersync.migration_ops import create_order_table, drop_order_table

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade():
    create_order_table(
        "store",
        sa.Column("customer_name", sa.String(200), nullable=False),
        sa.Column("customer_email", sa.String(254)),
        sa.Column("total_amount", sa.Numeric(12, 2)),
        sa.Column("currency", sa.String(3)),
    )


def downgrade():
    drop_order_table("store")
