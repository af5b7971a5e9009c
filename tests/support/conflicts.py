"""One scenario the conflict tests share: both sides edit status and notes while the sinks wait."""

from bench.client import order_body
from tests.support.processes import sinks_paused
from tests.support.sync import arrives, settled

# side: field -> (winner, local value, incoming value); status is the warehouse's, notes the store's
TIES = {
    "store": {
        "status": ("incoming", "cancelled", "shipped"),
        "notes": ("local", "store says", "warehouse says"),
    },
    "warehouse": {
        "status": ("local", "shipped", "cancelled"),
        "notes": ("incoming", "warehouse says", "store says"),
    },
}


def synced_order(apis) -> dict:
    """Create an order in the Store and wait until the Warehouse has it."""
    order = apis["store"].create(order_body("store"))
    arrives("warehouse", order["id"], order_number=order["order_number"])
    return order


def tied_order(apis) -> dict:
    """An order whose status and notes both sides set at once (version 2 each), settled."""
    order = synced_order(apis)
    with sinks_paused():
        apis["store"].patch(order["id"], {"status": "cancelled", "notes": "store says"})
        apis["warehouse"].patch(order["id"], {"status": "shipped", "notes": "warehouse says"})
    for side in TIES:  # each owner's value won everywhere
        arrives(side, order["id"], status="shipped", notes="store says")
    settled()
    return order
