"""examples/status_counts.py projects v1 events and events from a side mid-rollout.

tests/e2e/test_example_consumer.py runs it against the live topics; this runs its projection on
events drawn from the schemas and on a few rollout stories, without Kafka.
"""

import importlib.util
import json
import sqlite3
import uuid

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ordersync.sync.mapping import SIDES, field_set, topic
from stack import topology
from tests.support import examples
from tests.support.schemas import change_events, value_schema


def load_example():
    """Import the example script as a module (it is not a package of ours)."""
    path = topology.ROOT / "examples" / "status_counts.py"
    spec = importlib.util.spec_from_file_location("status_counts", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


status_counts = load_example()

# clock entries of today's fields and of fields this consumer does not know
CLOCK_NAMES = (*field_set(1).names, "gift_note", "parcels")
# v2 rows lack some synced columns at random: what a side before or after a schema step sends
EVENTS = {
    (side, version): change_events(value_schema(side, version), CLOCK_NAMES)
    for side in SIDES
    for version in (1, 2)
}


@pytest.mark.parametrize("version", (1, 2))
@pytest.mark.parametrize("side", SIDES)
@settings(max_examples=examples(60), deadline=None)
@given(data=st.data())
def test_every_event_the_schemas_admit_is_projected_with_the_status_it_carries(side, version, data):
    event = data.draw(EVENTS[(side, version)], "event")
    found = status_counts.change(topic(side), json.dumps(event).encode())
    row = event["after"] or event["before"]
    assert found["id"] == row["id"]
    assert found["status"] == row.get("status")
    if "status" in row:
        assert found["version"] == json.loads(row["field_versions"]).get("status", 0)
    assert found["deleted"] == int(event["op"] == "d" or row["deleted"])


@pytest.fixture
def db():
    """An empty projection in memory."""
    db = sqlite3.connect(":memory:")
    db.executescript(status_counts.SCHEMA)
    yield db
    db.close()


def message(side: str, order_id: str, clock: dict, drop=(), op="u", **columns) -> bytes:
    """A Debezium change of one order on a side's topic: a v1 row, some columns set or dropped."""
    row = {
        "id": order_id,
        "status": "pending",
        "deleted": False,
        "sync_origin": side,
        "field_versions": json.dumps(clock),
        "version": 1,
    } | columns
    row = {column: value for column, value in row.items() if column not in drop}
    before, after = (row, None) if op == "d" else (None, row)
    body = {"op": op, "before": before, "after": after, "source": {"connector": "postgresql"}}
    return json.dumps(body).encode()


def project(db, *messages: tuple[str, bytes]) -> dict:
    """Project messages in order; return the counts."""
    for side, value in messages:
        status_counts.project(db, topic(side), value)
    return status_counts.counts(db)


def test_a_row_without_a_status_column_leaves_the_status_alone(db):
    order = str(uuid.uuid4())
    shipped = message("warehouse", order, {"status": 2}, status="shipped")
    assert project(db, ("warehouse", shipped)) == {"shipped": 1}
    # the store before a step that adds status back, or after one that retires it
    older = message("store", order, {"notes": 5}, drop=("status",), notes="late")
    assert project(db, ("store", older)) == {"shipped": 1}
    deleted = message("store", order, {"deleted": 2}, drop=("status",), deleted=True)
    assert project(db, ("store", deleted)) == {}


def test_an_order_first_seen_without_a_status_counts_once_one_arrives(db):
    order = str(uuid.uuid4())
    unknown = message("store", order, {}, drop=("status",))
    assert project(db, ("store", unknown)) == {}
    # no clock entry: never written, version 0, as the sinks read it
    assert project(db, ("store", message("store", order, {}, status="pending"))) == {"pending": 1}


def test_columns_and_clock_entries_of_unknown_fields_are_ignored(db):
    order = str(uuid.uuid4())
    newer = message("warehouse", order, {"status": 3, "gift_note": 1}, gift_message="for Ann")
    older = message("store", order, {"status": 2}, status="cancelled")
    counted = project(db, ("warehouse", newer), ("store", older))
    assert counted == {"pending": 1}


@pytest.mark.parametrize(
    "row",
    [{"status": None}, {"status": 7}, {"field_versions": '{"status": true}'}],
    ids=["null status", "a number", "a boolean version"],
)
def test_a_malformed_status_is_not_projected(row):
    value = message("store", str(uuid.uuid4()), {"status": 1}, **row)
    assert status_counts.change(topic("store"), value) is None
