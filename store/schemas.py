"""Store order schemas."""

from marshmallow import fields, validate

from ordersync.schemas import OrderSchema, iso_currency, text


class StoreOrderSchema(OrderSchema):
    """A Store order: the shared fields, the customer's name, and store-only fields."""

    customer_name = text(200, required=True)
    customer_email = fields.Email(
        allow_none=True, load_default=None, validate=validate.Length(max=254)
    )
    total_amount = fields.Decimal(
        allow_none=True, load_default=None, places=2, as_string=True, validate=validate.Range(min=0)
    )
    currency = fields.String(allow_none=True, load_default=None, validate=iso_currency)
