"""Store service: the shop's orders, kept in sync with the Warehouse."""

from ordersync.app import build_app


def create_app(test_config: dict | None = None):
    """Create the Store app."""
    from store import cli, resources

    return build_app("store", resources.blp, cli.register_commands, test_config)
