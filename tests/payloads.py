"""Valid order bodies for either service, built from the mapping's column names."""

import uuid

from ordersync.mapping import columns

PATHS = {"store": "/api/v1/store-orders", "warehouse": "/api/v1/warehouse-orders"}


def name_field(side: str) -> str:
    """Return the side's name for the customer/recipient field."""
    return columns(side)["customer_name"]


def order_body(side: str, **overrides) -> dict:
    """Return a valid create body for one side, with a fresh order number."""
    body = {
        "order_number": f"T-{uuid.uuid4().hex[:12]}",
        name_field(side): "Ada Lovelace",
        "shipping_address": "12 Analytical Way, London",
        "items": [{"sku": "ENGINE-1", "quantity": 2}],
    }
    return body | overrides
