"""Store-only fields: email, money and currency validation, without a database."""

import pytest
from marshmallow import ValidationError

from bench.client import order_body
from store.schemas import StoreOrderSchema


def load(**overrides) -> dict:
    """Load a Store body through the schema."""
    return StoreOrderSchema().load(order_body("store", **overrides))


def test_optional_store_fields_default_to_null():
    data = load()
    assert data["customer_email"] is None and data["total_amount"] is None
    assert data["currency"] is None


@pytest.mark.parametrize(
    "field, value",
    [
        ("customer_email", "not-an-email"),
        ("total_amount", "-0.01"),
        ("total_amount", "10000000000"),
        ("total_amount", "NaN"),
        ("currency", "EURO"),
        ("currency", "eur"),
        ("currency", "XYZ"),
        ("customer_name", "nul\x00byte"),
    ],
)
def test_bad_store_field_is_named(field, value):
    with pytest.raises(ValidationError) as error:
        load(**{field: value})
    assert list(error.value.messages) == [field]


def test_money_is_rounded_to_cents_and_answered_as_a_string():
    assert str(load(total_amount="19.999")["total_amount"]) == "20.00"
    field = StoreOrderSchema().fields["total_amount"]
    assert field.serialize("total_amount", load(total_amount=5)) == "5.00"
    assert load(currency="EUR")["currency"] == "EUR"
