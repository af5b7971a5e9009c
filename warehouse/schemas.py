"""Warehouse order schemas."""

from marshmallow import fields, validate

from ordersync.api.schemas import OrderSchema, synced, text


class WarehouseOrderSchema(OrderSchema):
    """A Warehouse order: the shared fields, the recipient, and warehouse-only fields."""

    recipient_name = synced("customer_name")
    weight_grams = fields.Integer(
        allow_none=True, load_default=None, strict=True, validate=validate.Range(0, 2**31 - 1)
    )
    bin_location = text(32)
