"""Warehouse command-line commands (`flask --app warehouse ...`)."""

from ordersync.service.cli import register_shared_commands


def register_commands(app) -> None:
    """Add the Warehouse's commands to `flask`."""
    register_shared_commands(app)
