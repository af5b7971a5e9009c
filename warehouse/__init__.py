"""Warehouse service: the orders to pick and ship, kept in sync with the Store."""

from ordersync.app import build_app


def create_app(test_config: dict | None = None):
    """Create the Warehouse app."""
    from warehouse import cli, resources

    return build_app("warehouse", resources.blp, cli.register_commands, test_config)
