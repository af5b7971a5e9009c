"""Reading dead-letter records and the replay bookkeeping, without Kafka."""

import base64
import json
from datetime import UTC, datetime

import pytest

from ordersync.kafka.deadletters.records import (
    distinct,
    from_message,
    next_offsets,
    pending,
    replay_group,
    replay_header,
    source_topic,
    start_offset,
    table,
)

DLQ = "store.public.store_order.dlq"
ORDER = "2f1b7d1e-1111-4a4a-9a9a-000000000001"
EVENT = json.dumps({"op": "c", "before": None, "after": {"id": ORDER, "order_number": "A-1"}})


def record(**fields) -> bytes:
    """A dead-letter value in the sink's current format, with overrides."""
    value = {
        "reason": "rejected-by-database",
        "error": "duplicate key value violates unique constraint\nDETAIL: Key (order_number)",
        "topic": "store.public.store_order",
        "partition": 0,
        "offset": 41,
        "order_id": ORDER,
        "dead_lettered_at": "2026-11-27T10:49:17.123+00:00",
        "event": EVENT,
        "event_base64": None,
    }
    return json.dumps(value | fields).encode()


def letter(value: bytes, offset: int = 7, timestamp_ms=None, partition: int = 0):
    """Parse a value as if read from the DLQ topic."""
    return from_message((DLQ, partition, offset), b'{"id": "k"}', value, timestamp_ms)


def test_a_complete_record_is_read_field_by_field():
    x = letter(record())
    assert (x.reason, x.topic, x.partition, x.offset, x.order_id) == (
        "rejected-by-database",
        "store.public.store_order",
        0,
        41,
        ORDER,
    )
    assert x.dead_lettered_at == datetime(2026, 11, 27, 10, 49, 17, 123000, UTC)
    assert x.original == EVENT.encode() and x.replayable
    assert x.key == b'{"id": "k"}'
    assert x.source == "store.public.store_order[0]@41"
    assert x.position == f"{DLQ}:0:7"


def test_a_value_that_was_not_utf8_comes_back_byte_exact():
    raw = b"\xff\xfe not json \x00"
    x = letter(record(event=None, event_base64=base64.b64encode(raw).decode(), order_id=None))
    assert x.original == raw
    assert x.order_id is None


def test_an_older_record_takes_the_order_id_from_the_event_and_the_time_from_kafka():
    old = {"reason": "unparseable", "error": "bad", "topic": "store.public.store_order"}
    x = letter(json.dumps(old | {"partition": 0, "offset": 3, "event": EVENT}).encode(), 0, 1000)
    assert x.order_id == ORDER
    assert x.dead_lettered_at == datetime(1970, 1, 1, 0, 0, 1, tzinfo=UTC)


def test_a_naive_time_is_read_as_utc():
    x = letter(record(dead_lettered_at="2026-11-27T10:49:17"))
    assert x.dead_lettered_at.tzinfo is not None


@pytest.mark.parametrize(
    "value",
    [b"not json", b"[1, 2]", None, json.dumps({"reason": "x"}).encode()],
)
def test_an_unreadable_record_is_listed_but_not_replayable(value):
    x = letter(value)
    assert not x.replayable
    assert x.topic == "store.public.store_order"  # the DLQ topic's own source
    assert x.partition is None and x.order_id is None


def test_a_broken_base64_value_is_not_replayable():
    assert not letter(record(event=None, event_base64="%%%")).replayable


def test_a_non_integer_partition_is_unknown():
    x = letter(record(partition="0", offset=True))
    assert x.partition is None and x.offset is None
    assert x.source == "store.public.store_order[?]@?"


@pytest.mark.parametrize(
    ("low", "high", "committed", "start", "count"),
    [
        (0, 5, -1001, 0, 5),  # never replayed: everything
        (0, 5, 3, 3, 2),  # replayed up to 3
        (0, 5, 5, 5, 0),  # replayed everything
        (4, 9, 2, 4, 5),  # retention removed letters past the commit
        (0, 0, -1001, 0, 0),  # empty topic
    ],
)
def test_pending_counts_from_the_last_replay(low, high, committed, start, count):
    assert start_offset(low, committed) == start
    assert pending(low, high, committed) == count


def test_replay_bookkeeping_names_the_letter_and_commits_after_the_last():
    letters = [letter(record(), 4), letter(record(), 9), letter(record(), 2, partition=1)]
    assert replay_header(letters[0]) == ("dlq-replay", f"{DLQ}:0:4".encode())
    assert next_offsets(letters) == {0: 10, 1: 3}
    assert next_offsets([]) == {}
    assert replay_group(DLQ) == f"dlq-replay.{DLQ}"
    assert source_topic(DLQ) == "store.public.store_order"


def test_table_shows_time_reason_order_source_and_a_one_line_error():
    lines = table([letter(record())], error_width=30)
    assert lines[0].split() == ["time", "(UTC)", "reason", "order", "id", "source", "error"]
    row = lines[1]
    assert row.startswith("2026-11-27 10:49:17 rejected-by-database")
    assert ORDER in row and "store.public.store_order[0]@41" in row
    assert row.endswith("…") and "\n" not in row


def test_a_message_dead_lettered_twice_is_listed_once_as_its_latest_letter():
    first, again = letter(record(), offset=7), letter(record(reason="unparseable"), offset=9)
    other = letter(record(offset=42), offset=8)
    assert distinct([first, other, again]) == [other, again]


def test_a_later_letter_without_the_event_does_not_hide_one_with_it():
    whole, bare = letter(record(), offset=7), letter(record(event=None), offset=9)
    assert distinct([whole, bare]) == [whole]


def test_letters_whose_original_place_is_unknown_are_never_merged():
    unknown = [letter(record(partition=None, offset=None), offset=n) for n in (3, 4)]
    assert distinct(unknown) == unknown
