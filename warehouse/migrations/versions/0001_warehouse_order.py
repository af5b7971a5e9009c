"""Create warehouse_order with its sync bookkeeping and versioning trigger.

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
        "warehouse",
        sa.Column("recipient_name", sa.String(200), nullable=False),
        sa.Column("weight_grams", sa.Integer()),
        sa.Column("bin_location", sa.String(32)),
    )


def downgrade():
    drop_order_table("warehouse")
