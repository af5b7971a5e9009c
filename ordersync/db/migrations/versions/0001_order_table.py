"""Create the side's order table with its sync bookkeeping and versioning trigger.

Revision ID: 0001
Revises:
Create Date: 2026-11-26
"""

import sqlalchemy as sa
from flask import current_app

from ordersync.db.migration_ops import create_order_table, drop_order_table

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

# the renamed synced field and the local-only fields each side had at this revision
SIDE_COLUMNS = {
    "store": lambda: [
        sa.Column("customer_name", sa.String(200), nullable=False),
        sa.Column("customer_email", sa.String(254)),
        sa.Column("total_amount", sa.Numeric(12, 2)),
        sa.Column("currency", sa.String(3)),
    ],
    "warehouse": lambda: [
        sa.Column("recipient_name", sa.String(200), nullable=False),
        sa.Column("weight_grams", sa.Integer()),
        sa.Column("bin_location", sa.String(32)),
    ],
}


def upgrade():
    side = current_app.config["SIDE"]
    create_order_table(side, *SIDE_COLUMNS[side]())


def downgrade():
    drop_order_table(current_app.config["SIDE"])
