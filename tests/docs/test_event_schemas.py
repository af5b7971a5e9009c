"""The published event schemas match the tables: a column added without its schema fails here."""

import pytest
from jsonschema import Draft202012Validator

from ordersync.mapping import SIDES, TABLES
from tests.support.schemas import SCHEMAS, schema, value_schema


def order_table(side: str):
    """The SQLAlchemy table of one side's orders."""
    model = __import__(f"{side}.models", fromlist=["models"])
    return next(
        m.__table__
        for m in vars(model).values()
        if getattr(m, "__tablename__", None) == TABLES[side]
    )


@pytest.mark.parametrize("name", sorted(p.name for p in SCHEMAS.glob("*.json")))
def test_every_schema_is_a_valid_draft_2020_12_schema(name):
    Draft202012Validator.check_schema(schema(name))


@pytest.mark.parametrize("side", SIDES)
def test_the_row_schema_lists_exactly_the_tables_columns(side):
    table = order_table(side)
    row = value_schema(side)["$defs"]["row"]
    assert set(row["properties"]) == {c.name for c in table.columns}
    assert set(row["required"]) == set(row["properties"])


@pytest.mark.parametrize("side", SIDES)
def test_text_limits_match_the_columns(side):
    table = order_table(side)
    properties = value_schema(side)["$defs"]["row"]["properties"]
    for column in table.columns:
        length = getattr(column.type, "length", None)
        if length and "enum" not in properties[column.name]:
            assert properties[column.name]["maxLength"] == length, column.name
