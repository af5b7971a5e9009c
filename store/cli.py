"""Store command-line commands (`flask --app store ...`)."""

from ordersync.service.cli import register_shared_commands


def register_commands(app) -> None:
    """Add the Store's commands to `flask`."""
    register_shared_commands(app)
