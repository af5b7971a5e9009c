"""The database refuses the order lines the API refuses: {sku 1-64, quantity 1-10000}, nothing else.

A CHECK on a function shared with the sink's rule (ordersync/sync/fieldkinds.py), so plain SQL and
the admin cannot store a line the API and the sink refuse. Rows already holding such lines are
counted and reported; the constraint then checks new writes only (NOT VALID) until they are
fixed, and `ALTER TABLE ... VALIDATE CONSTRAINT` finishes it.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-06
"""

import logging

from alembic import op
from flask import current_app

from ordersync.sync.fieldkinds import ITEMS_FUNCTION, items_function_sql
from ordersync.sync.mapping import TABLES

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None

log = logging.getLogger("alembic.runtime.migration")


def constraint(table: str) -> str:
    """The constraint's name."""
    return f"{table}_item_lines_check"


def upgrade():
    table = TABLES[current_app.config["SIDE"]]
    op.execute(items_function_sql())
    bad = op.get_bind().exec_driver_sql(
        f"SELECT count(*) FROM {table} WHERE NOT public.{ITEMS_FUNCTION}(items)"
    )
    found = bad.scalar()
    valid = "" if not found else " NOT VALID"
    op.execute(
        f"ALTER TABLE {table} ADD CONSTRAINT {constraint(table)} "
        f"CHECK (public.{ITEMS_FUNCTION}(items)){valid}"
    )
    if found:
        log.warning(
            "%s: %d order(s) hold item lines the API refuses; new writes are checked, these "
            "are not until fixed (then: ALTER TABLE %s VALIDATE CONSTRAINT %s)",
            table,
            found,
            table,
            constraint(table),
        )
    else:
        log.info("%s: every order's item lines are valid", table)


def downgrade():
    table = TABLES[current_app.config["SIDE"]]
    op.execute(f"ALTER TABLE {table} DROP CONSTRAINT {constraint(table)}")
    op.execute(f"DROP FUNCTION public.{ITEMS_FUNCTION}(jsonb)")
