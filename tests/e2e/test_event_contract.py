"""Every kind of event both connectors really produce matches the current published schemas."""

import json
import uuid

import pytest
from jsonschema import Draft202012Validator, FormatChecker

from bench.client import order_body
from ordersync.db.roles import OWNER
from ordersync.sync.mapping import LOCAL_FIELDS, SIDES, TABLES, columns, topic
from stack.probes import wait_until
from tests.support.db import connect
from tests.support.kafka import end_offset, iter_messages
from tests.support.processes import recaptured
from tests.support.schemas import content_errors, schema, value_schema
from tests.support.sync import settled

LOCAL_VALUES = {"customer_email": "ada@example.com", "weight_grams": 1200}


def validator(document: dict) -> Draft202012Validator:
    """A validator that checks formats (uuid, date-time) too."""
    return Draft202012Validator(document, format_checker=FormatChecker())


def debezium_events(side: str, since: int = 0):
    """Yield (key, value) of each message on a side's topic from an offset on that Debezium wrote
    (the fuzz test's garbage, written by hand, is not the contract's business)."""
    for message in iter_messages(topic(side), since):
        try:
            key, value = json.loads(message.key()), json.loads(message.value())
        except (TypeError, ValueError):
            continue
        source = value.get("source") if isinstance(value, dict) else None
        if isinstance(source, dict) and source.get("connector") == "postgresql":
            yield key, value


def snapshot_event(side: str, since: int = 0) -> tuple[dict, dict] | None:
    """The first snapshot read (op r) on a side's topic from an offset on, scanned not kept."""
    return next((event for event in debezium_events(side, since) if event[1]["op"] == "r"), None)


def exercise(apis, side: str) -> tuple[str, str]:
    """Create, update, change a local field, delete, hard-delete and purge orders on one side."""
    api = apis[side]
    kept = api.create(order_body(side))
    api.patch(kept["id"], {"notes": "contract"})
    local = LOCAL_FIELDS[side][0]
    api.patch(kept["id"], {local: LOCAL_VALUES[local]})
    gone = api.create(order_body(side))
    api.delete(gone["id"])
    conn = connect(side)
    with conn.cursor() as cur:  # a hard delete in SQL is turned into a tombstone
        cur.execute(f"DELETE FROM {TABLES[side]} WHERE id = %s", (kept["id"],))
    conn.close()
    owner = connect(side, role=OWNER.name)
    with owner.cursor() as cur:  # only the owner's purge really deletes: op d
        cur.execute(f"DELETE FROM {TABLES[side]} WHERE id = %s", (gone["id"],))
    owner.close()
    return kept["id"], gone["id"]


def snapshot_read(side: str) -> str:
    """An order written while nothing captures, so it arrives as a snapshot read (op r)."""
    order_id = str(uuid.uuid4())
    with recaptured(side):
        conn = connect(side)
        with conn.cursor() as cur:
            cur.execute(
                f"INSERT INTO {TABLES[side]} (id, order_number, {columns(side)['customer_name']}, "
                "shipping_address, items) VALUES (%s, %s, 'Snap', '1 Snap St', "
                """'[{"sku": "S", "quantity": 1}]')""",
                (order_id, f"SNAP-{order_id[:8]}"),
            )
        conn.close()
    return order_id


@pytest.mark.parametrize("side", SIDES)
def test_every_operation_on_both_topics_matches_its_schema(apis, side):
    """A snapshot read and every kind of change made here match the schemas.

    Only those are checked, not the whole topic: a dev stack's topic may hold millions of events.
    """
    settled()
    snapshot = snapshot_event(side)
    if snapshot is None:  # only when no snapshot read is in the topic yet
        before = end_offset(topic(side))
        snapshot_read(side)
        snapshot = wait_until(lambda: snapshot_event(side, before), 60, "a snapshot read")
    start = end_offset(topic(side))
    kept, gone = exercise(apis, side)
    purged = [("d", gone)]
    # only what arrived since: a long-lived dev stack's topic can take longer than this to read
    wait_until(
        lambda: (
            [(v["op"], (v["before"] or {}).get("id")) for _, v in debezium_events(side, start)][-1:]
            == purged
        ),
        30,
        "the purge event",
    )
    events = [snapshot, *debezium_events(side, start)]
    keys, values = validator(schema("order.key.json")), validator(value_schema(side))
    for key, value in events:
        assert not list(keys.iter_errors(key)), key
        errors = [e.message for e in values.iter_errors(value)]
        errors += content_errors(values.schema, value)
        assert not errors, (errors[:3], value)
        row = value["after"] or value["before"]
        assert key["id"] == row["id"]
    assert {value["op"] for _, value in events} >= {"c", "u", "d", "r"}
    mine = [v for _, v in events if (v["after"] or v["before"])["id"] == kept]
    assert [v["after"]["deleted"] for v in mine][-1] is True  # SQL DELETE: an update, deleted
    settled()
