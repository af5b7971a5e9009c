"""Add user_account.security_stamp: tokens and admin sessions carry it, a new one ends them.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-27
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade():
    # existing users get a stamp each; tokens issued before this migration carry none and end
    op.add_column(
        "user_account",
        sa.Column(
            "security_stamp",
            sa.Uuid(),
            nullable=False,
            server_default=sa.text("gen_random_uuid()"),
        ),
    )


def downgrade():
    op.drop_column("user_account", "security_stamp")
