"""Warehouse-only fields and the renamed recipient, without a database."""

import pytest
from marshmallow import ValidationError

from bench.client import order_body
from warehouse.schemas import WarehouseOrderSchema


def load(**overrides) -> dict:
    """Load a Warehouse body through the schema."""
    return WarehouseOrderSchema().load(order_body("warehouse", **overrides))


def test_recipient_name_is_required_and_customer_name_unknown():
    body = order_body("warehouse")
    body["customer_name"] = body.pop("recipient_name")
    with pytest.raises(ValidationError) as error:
        WarehouseOrderSchema().load(body)
    assert set(error.value.messages) == {"recipient_name", "customer_name"}


@pytest.mark.parametrize(
    "field, value",
    [
        ("weight_grams", -1),
        ("weight_grams", 2**31),
        ("weight_grams", "12"),
        ("weight_grams", 1.5),
        ("bin_location", "x" * 33),
    ],
)
def test_bad_warehouse_field_is_named(field, value):
    with pytest.raises(ValidationError) as error:
        load(**{field: value})
    assert list(error.value.messages) == [field]


def test_valid_warehouse_fields_load():
    data = load(weight_grams=0, bin_location="A-3")
    assert (data["weight_grams"], data["bin_location"]) == (0, "A-3")
