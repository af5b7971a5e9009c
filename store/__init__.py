"""Store service: the shop's orders, kept in sync with the Warehouse."""

from types import SimpleNamespace

from ordersync.service.app import build_app


def create_app(test_config: dict | None = None):
    """Create the Store app."""
    from store import cli, models, resources, schemas

    parts = SimpleNamespace(
        resources=resources, model=models.StoreOrder, schema=schemas.StoreOrderSchema, cli=cli
    )
    return build_app("store", parts, test_config)
