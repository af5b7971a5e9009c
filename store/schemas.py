"""Store order schemas."""

from decimal import Decimal

from marshmallow import ValidationError, fields, validate

from ordersync.api.schemas import OrderSchema, iso_currency, synced

MAX_AMOUNT = Decimal("9999999999.99")  # NUMERIC(12, 2)


def amount_in_range(value: Decimal) -> None:
    """Reject negative amounts and amounts the column cannot hold."""
    if not Decimal(0) <= value <= MAX_AMOUNT:
        raise ValidationError(f"Must be between 0 and {MAX_AMOUNT}.")


class StoreOrderSchema(OrderSchema):
    """A Store order: the shared fields, the customer's name, and store-only fields."""

    customer_name = synced("customer_name")
    customer_email = fields.Email(
        allow_none=True, load_default=None, validate=validate.Length(max=254)
    )
    total_amount = fields.Decimal(
        allow_none=True,
        load_default=None,
        places=2,
        as_string=True,
        validate=amount_in_range,
        # a decimal string both ways, so no binary float ever touches money
        metadata={"type": "string", "pattern": r"^\d{1,10}(\.\d{1,2})?$", "example": "19.90"},
    )
    currency = fields.String(
        allow_none=True,
        load_default=None,
        validate=iso_currency,
        metadata={"description": "ISO 4217 code", "example": "EUR"},
    )
