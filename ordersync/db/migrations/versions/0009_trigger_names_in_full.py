"""The versioning trigger names its catalogs and tables in full.

Unqualified, `pg_roles` or the purged-id table could be a session's temporary view or table
(searched before every schema, and any role may create one): a role with DELETE could pass as
the owner and purge a tombstone without leaving its id behind. The function is recreated with
the names qualified; the trigger itself is unchanged.

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-27
"""

from alembic import op
from flask import current_app

from ordersync.db import triggers
from ordersync.sync.mapping import field_set

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade():
    op.execute(triggers.create_sql(current_app.config["SIDE"], field_set(1)))


def downgrade():
    pass  # the qualified function is valid for revision 0008's schema: nothing to undo
