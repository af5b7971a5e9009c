"""A column's generated JSON Schema admits exactly what its kind's check admits."""

import json

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from jsonschema import Draft202012Validator

from ordersync.sync.eventschema import kind_schema
from ordersync.sync.fieldkinds import MAX_ITEMS, BadValue, Choice, Flag, Integer, Items, Text
from tests.support import examples

# small limits, so that random values land on both sides of them
KINDS = [
    Text(3),
    Text(3, nullable=True),
    Choice(("pending", "shipped")),
    Choice(("pending", "shipped"), nullable=True),
    Flag(),
    Flag(nullable=True),
    Integer(-2, 5),
    Integer(0, 9, nullable=True),
    Items(),
    Items(nullable=True),
]

LINE = {"sku": "X", "quantity": 1}
LISTS = st.sampled_from([0, 1, 2, MAX_ITEMS, MAX_ITEMS + 1]).map(lambda n: [LINE] * n)
# floats are left out: JSON Schema calls 1.0 an integer, Debezium never sends one
ANY = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-4, 12),
    st.sampled_from(["pending", "shipped", "lost", ""]),
    st.text(st.characters(max_codepoint=0x7F), max_size=5),
    LISTS,
    LISTS.map(json.dumps),
    st.sampled_from(['{"sku": "X"}', '"X"', "null", "not json"]),
)


def kind_accepts(kind, value) -> bool:
    """What the sink says: JSON text of items is decoded first, then the kind checks it."""
    if isinstance(kind, Items) and isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            return False
    try:
        kind.check(value)
    except BadValue:
        return False
    return True


def schema_accepts(rule: dict, value) -> bool:
    """What the schema says, JSON text held to its contentSchema (validators only annotate it)."""
    if not Draft202012Validator(rule).is_valid(value):
        return False
    if "contentSchema" not in rule or not isinstance(value, str):
        return True
    try:
        content = json.loads(value)
    except ValueError:
        return False
    return Draft202012Validator(rule["contentSchema"]).is_valid(content)


@pytest.mark.parametrize("kind", KINDS, ids=repr)
@settings(max_examples=examples(200), deadline=None)
@given(value=ANY)
def test_a_columns_schema_admits_what_its_kind_admits(kind, value):
    # the sink also reads items given as an array, which is not Debezium's form (JSON text)
    assume(not (isinstance(kind, Items) and isinstance(value, list)))
    Draft202012Validator.check_schema(kind_schema(kind))
    assert schema_accepts(kind_schema(kind), value) == kind_accepts(kind, value)


@pytest.mark.parametrize(
    ("kind", "value"),
    [(Text(3), "abcd"), (Text(3), "a\x00"), (Text(3), ""), (Integer(-2, 5), 6), (Items(), "[]")],
)
def test_a_schema_refuses_what_its_kind_refuses(kind, value):
    assert not schema_accepts(kind_schema(kind), value)
    assert not kind_accepts(kind, value)
