"""Store order endpoints."""

from ordersync.api.resources import orders_blueprint
from store.models import StoreOrder
from store.schemas import StoreOrderSchema

blp = orders_blueprint("store-orders", "/api/v1/store-orders", StoreOrder, StoreOrderSchema)
