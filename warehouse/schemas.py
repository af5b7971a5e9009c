"""Warehouse order schemas."""

from marshmallow import fields, validate

from ordersync.schemas import OrderSchema, text


class WarehouseOrderSchema(OrderSchema):
    """A Warehouse order: the shared fields, the recipient, and warehouse-only fields."""

    recipient_name = text(200, required=True)
    weight_grams = fields.Integer(
        allow_none=True, load_default=None, strict=True, validate=validate.Range(0, 2**31 - 1)
    )
    bin_location = text(32)
