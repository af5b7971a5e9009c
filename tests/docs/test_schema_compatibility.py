"""v2 of the value schemas is compatible: what v1 admits, and what a side one schema version
behind or ahead sends, is valid under v2 and parses in the sink; what the sink refuses, v2 does.
"""

import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from jsonschema import Draft202012Validator, FormatChecker

from connectors.sink.events import PoisonEvent, parse
from ordersync.sync.eventschema import kind_schema
from ordersync.sync.fieldkinds import Integer, Text
from ordersync.sync.mapping import (
    CLOCK_COLUMN,
    LATEST,
    MAX_VERSION,
    SIDES,
    STORE,
    SYNC_COLUMN,
    TOMBSTONE,
    WAREHOUSE,
    SyncedField,
    field_set,
)
from tests.support import examples
from tests.support.schemas import (
    CLOCK_VERSIONS,
    change_events,
    content_errors,
    value_schema,
    values,
)

V1_NAMES = field_set(1).names
# fields a schema step after the latest might add (the sink's tests use the same two)
GIFT_NOTE = SyncedField(
    "gift_note", STORE, Text(200, nullable=True), columns={WAREHOUSE: "gift_message"}
)
PARCELS = SyncedField("parcels", WAREHOUSE, Integer(1, 20), default=1)
DROPPABLE = [f for f in LATEST.fields if f.name != TOMBSTONE]
# what a side at another schema version adds to a row of today's, and what it lacks
SHAPES = {
    "N-1": ((), None),  # lacks one synced field, drawn
    "N+1": ((GIFT_NOTE,), ()),
    "N+1 retiring": ((GIFT_NOTE, PARCELS), (LATEST.fields[LATEST.names.index("tracking_number")],)),
}

PROPERTY = settings(
    max_examples=examples(60),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


def validator(document: dict) -> Draft202012Validator:
    """A validator that checks formats (uuid, date-time) too."""
    return Draft202012Validator(document, format_checker=FormatChecker())


V1 = {side: validator(value_schema(side, 1)) for side in SIDES}
V2 = {side: validator(value_schema(side)) for side in SIDES}
# built once: a strategy is costly to build
V1_EVENTS = {side: change_events(value_schema(side, 1), V1_NAMES) for side in SIDES}


def assert_valid_under_v2(side: str, event: dict) -> None:
    """Valid under v2, the JSON text in its rows included."""
    errors = [e.message for e in V2[side].iter_errors(event)]
    assert not errors + content_errors(V2[side].schema, event), event


def expected_values(side: str, event: dict) -> dict:
    """The synced values the sink should read from an event: what its row carries."""
    row = event["before"] if event["op"] == "d" else event["after"]
    found = {f.name: row[f.column(side)] for f in LATEST.fields if f.column(side) in row}
    if "items" in found:  # Debezium renders jsonb as text
        found["items"] = json.loads(found["items"])
    return found | ({TOMBSTONE: True} if event["op"] == "d" else {})


def assert_parses(side: str, event: dict, absent=(), unsynced=()) -> None:
    """The sink parses the event into the values its row carries, naming what it leaves alone."""
    parsed = parse(side, json.dumps(event).encode())
    assert parsed.op == event["op"]
    assert parsed.state.values == expected_values(side, event)
    assert parsed.absent == absent and parsed.unsynced == unsynced


@pytest.mark.parametrize("side", SIDES)
@PROPERTY
@given(data=st.data())
def test_every_event_v1_admits_is_valid_under_v2_and_parses(side, data):
    event = data.draw(V1_EVENTS[side], "event")
    assert V1[side].is_valid(event)  # the generator draws what v1 admits
    assert_valid_under_v2(side, event)
    assert_parses(side, event)


@st.composite
def reshaped(draw, side: str, add: tuple, drop: tuple | None) -> tuple[dict, tuple]:
    """A v1 event turned into one of another schema version; also the fields it lacks."""
    event = draw(V1_EVENTS[side])
    drop = drop if drop is not None else (draw(st.sampled_from(DROPPABLE)),)
    for row in filter(None, (event["before"], event["after"])):
        clock = json.loads(row[CLOCK_COLUMN])
        for f in drop:
            del row[f.column(side)]
            clock.pop(f.name, None)
        for f in add:
            row[f.column(side)] = draw(values(kind_schema(f.kind), f.column(side), ()))
            clock[f.name] = draw(CLOCK_VERSIONS)
        row[CLOCK_COLUMN] = json.dumps(clock)
    return event, tuple(f.name for f in drop)


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("side", SIDES)
@PROPERTY
@given(data=st.data())
def test_an_event_of_another_schema_version_is_valid_under_v2_and_parses(side, shape, data):
    add, drop = SHAPES[shape]
    event, dropped = data.draw(reshaped(side, add, drop), "event")
    assert not V1[side].is_valid(event)  # v1 could not describe it
    assert_valid_under_v2(side, event)
    absent = tuple(name for name in LATEST.names if name in dropped)
    assert_parses(side, event, absent, tuple(sorted(f.name for f in add)))


def set_column(name: str, value):
    """A change to a row: one column set."""
    return lambda side, row: row.update({LATEST.columns(side).get(name, name): value})


def drop_column(name: str):
    """A change to a row: one column removed."""
    return lambda side, row: row.pop(name)


BROKEN = {
    "a choice not offered": set_column("status", "lost"),
    "an empty required text": set_column("order_number", ""),
    "a text too long": set_column("customer_name", "x" * 201),
    "items not an array": set_column("items", '{"sku": "X"}'),
    "no items": set_column("items", "[]"),
    "a clock entry not a field name": set_column(CLOCK_COLUMN, '{"Notes": 1}'),
    "a clock version too large": set_column(CLOCK_COLUMN, f'{{"notes": {MAX_VERSION + 1}}}'),
    "no author": drop_column(SYNC_COLUMN),
    "no clock": drop_column(CLOCK_COLUMN),
}


@pytest.mark.parametrize("breakage", BROKEN)
@pytest.mark.parametrize("side", SIDES)
@settings(PROPERTY, max_examples=examples(15))
@given(data=st.data())
def test_what_the_sink_refuses_v2_refuses(side, breakage, data):
    event = data.draw(V1_EVENTS[side], "event")
    BROKEN[breakage](side, event["before"] if event["op"] == "d" else event["after"])
    errors = [e.message for e in V2[side].iter_errors(event)]
    assert errors + content_errors(V2[side].schema, event)
    with pytest.raises(PoisonEvent):
        parse(side, json.dumps(event).encode())
