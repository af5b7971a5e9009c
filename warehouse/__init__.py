"""Warehouse service: the orders to pick and ship, kept in sync with the Store."""

from types import SimpleNamespace

from ordersync.service.app import build_app


def create_app(test_config: dict | None = None):
    """Create the Warehouse app."""
    from warehouse import cli, models, resources, schemas

    parts = SimpleNamespace(
        resources=resources,
        model=models.WarehouseOrder,
        schema=schemas.WarehouseOrderSchema,
        cli=cli,
    )
    return build_app("warehouse", parts, test_config)
