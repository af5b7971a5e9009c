"""Alembic environment: the shared one."""

from ordersync.migration_env import run

run()
