"""Warehouse order endpoints."""

from ordersync.api.resources import orders_blueprint
from warehouse.models import WarehouseOrder
from warehouse.schemas import WarehouseOrderSchema

blp = orders_blueprint(
    "warehouse-orders", "/api/v1/warehouse-orders", WarehouseOrder, WarehouseOrderSchema
)
