"""The sink's batch decisions with fakes: parse, apply, isolate, dead-letter, and what escapes."""

import json
import uuid

import pytest

from connectors.sink import processor as processing
from connectors.sink.deadletters import DeadLetters
from connectors.sink.events import ChangeEvent, PoisonEvent, checks
from connectors.sink.failures import DeadLetterUnavailable, Failure, classify
from connectors.sink.processor import Processor, parse_ahead
from ordersync.sync.mapping import STORE, WAREHOUSE
from tests.support import fakes
from tests.support.fakes import batch, change


@pytest.fixture
def producer():
    return fakes.Producer()


@pytest.fixture
def target():
    return fakes.Target()


@pytest.fixture
def processor(target, producer):
    return Processor(STORE, WAREHOUSE, target, DeadLetters(producer, "store.dlq"))


def numbers_clash(rows) -> bool:
    """The live-order-number rule, checked on an end state like a deferred constraint."""
    live = [s.values["order_number"] for s in rows.values() if not s.values["deleted"]]
    return len(live) != len(set(live))


def test_poison_is_dead_lettered_and_the_rest_applied(processor, target, producer):
    report = processor.process(batch(change("N1"), b"{oops", None, change("N2")))
    assert sorted(s.values["order_number"] for s in target.rows.values()) == ["N1", "N2"]
    assert report.dead_letters == ["invalid-event"]
    assert report.kafka_tombstones == 1
    assert report.messages == 4
    [(topic, key, record)] = producer.stored
    assert (topic, key, record["offset"], record["event"]) == ("store.dlq", b"k", 1, "{oops")
    assert record["reason"] == "invalid-event" and "JSON" in record["error"]


def test_parsing_ahead_keeps_each_message_outcome_by_its_place_in_kafka(target):
    class Failed(fakes.Message):
        def error(self):
            return "broker transport failure"

    messages = [*batch(change("N1"), b"{oops", None), Failed(b"", 3)]
    parsed = parse_ahead(STORE, messages, target.checks)
    topic = messages[0].topic()
    assert set(parsed) == {(topic, 0, 0), (topic, 0, 1), (topic, 0, 2)}
    assert isinstance(parsed[(topic, 0, 0)], ChangeEvent)
    assert parsed[(topic, 0, 0)].state.values["order_number"] == "N1"
    assert isinstance(parsed[(topic, 0, 1)], PoisonEvent)
    assert parsed[(topic, 0, 2)] is None  # a Kafka tombstone


def test_a_batch_parsed_ahead_is_not_parsed_again(processor, target, producer, monkeypatch):
    messages = batch(change("N1"), b"{oops", None, change("N2"))
    # the last one arrived after the look-ahead
    parsed = parse_ahead(STORE, messages[:3], target.checks)
    calls = []
    real = processing.parse
    monkeypatch.setattr(
        processing,
        "parse",
        lambda side, value, fields=None: calls.append(value) or real(side, value, fields),
    )
    report = processor.process(messages, parsed)
    assert calls == [messages[3].value()]
    assert sorted(s.values["order_number"] for s in target.rows.values()) == ["N1", "N2"]
    assert (report.dead_letters, report.kafka_tombstones) == (["invalid-event"], 1)
    assert "JSON" in producer.stored[0][2]["error"]  # the error found ahead is the one sent


def test_binary_garbage_keeps_its_exact_bytes(processor, producer):
    processor.process(batch(b"\xff\x00\xfe"))
    record = producer.stored[0][2]
    assert record["event"] is None and record["event_base64"] == "/wD+"


def test_swapped_numbers_in_one_batch_apply_as_a_whole(processor, target):
    a, b = str(uuid.uuid4()), str(uuid.uuid4())
    processor.process(batch(change("N1", a), change("N2", b)))
    target.refuse(numbers_clash, fakes.SqlError("23P01"))
    report = processor.process(batch(change("TMP", a, 2), change("N1", b, 2), change("N2", a, 3)))
    assert report.dead_letters == []
    assert target.rows[a].values["order_number"] == "N2"
    assert target.rows[b].values["order_number"] == "N1"


def test_refused_data_is_bisected_down_to_the_guilty_event(processor, target, producer):
    target.refuse(
        lambda rows: any(s.values["order_number"] == "BAD" for s in rows.values()),
        fakes.SqlError("22001"),
    )
    values = [change(f"N{i}") for i in range(7)]
    values.insert(4, change("BAD"))
    report = processor.process(batch(*values))
    assert len(target.rows) == 7
    assert report.dead_letters == ["rejected-by-database"]
    assert producer.stored[0][2]["offset"] == 4
    assert producer.stored[0][2]["order_id"] is not None


@pytest.mark.parametrize(
    ("code", "failure"),
    [
        ("40P01", Failure.TRANSIENT),
        ("55P03", Failure.TRANSIENT),
        ("25006", Failure.TRANSIENT),
        ("57014", Failure.TRANSIENT),
        ("08006", Failure.TRANSIENT),
        ("53300", Failure.TRANSIENT),
        ("42501", Failure.SCHEMA),
        ("42703", Failure.SCHEMA),
        ("XX000", Failure.SCHEMA),
    ],
)
def test_failures_that_are_not_the_datas_fault_escape_untouched(
    processor, target, producer, code, failure
):
    target.refuse(lambda rows: True, fakes.SqlError(code))
    with pytest.raises(fakes.SqlError) as raised:
        processor.process(batch(change("N1"), change("N2")))
    assert classify(raised.value) is failure
    assert target.rows == {} and producer.stored == []


@pytest.mark.parametrize("code", ["22001", "23505", "23P01", "23514", "54000", "22P05"])
def test_data_errors_are_the_events_fault(code):
    assert classify(fakes.SqlError(code)) is Failure.DATA


def test_errors_of_our_own_code_are_data_and_a_broken_link_is_transient():
    import psycopg2

    assert classify(TypeError("bad clock")) is Failure.DATA
    assert classify(psycopg2.OperationalError("server closed the connection")) is Failure.TRANSIENT
    assert classify(psycopg2.ProgrammingError("can't adapt type")) is Failure.DATA
    assert classify(DeadLetterUnavailable("x")) is Failure.TRANSIENT


def test_a_corrupt_current_row_dead_letters_the_event_not_the_batch(processor, target):
    order = str(uuid.uuid4())
    processor.process(batch(change("N1", order)))
    current = target.rows[order]
    target.rows[order] = type(current)(order, current.values, {"status": "junk"}, WAREHOUSE)
    report = processor.process(batch(change("N9", order, 2), change("N2")))
    assert report.dead_letters == ["merge-failed"]
    assert len(target.rows) == 2


def test_unconfirmed_dead_letters_fail_the_batch_and_are_not_sent_twice(processor, producer):
    producer.broker_up = False
    messages = batch(b"poison", change("N1"))
    with pytest.raises(DeadLetterUnavailable):
        processor.process(messages)
    with pytest.raises(DeadLetterUnavailable):
        processor.process(messages)  # the retry: still in flight, not queued again
    assert len(producer.queued) == 1
    producer.broker_up = True
    report = processor.process(messages)
    assert len(producer.stored) == 1 and report.dead_letters == ["invalid-event"]


def test_a_rejected_dead_letter_is_sent_again_on_retry(processor, producer):
    producer.reject = True
    messages = batch(b"poison")
    with pytest.raises(DeadLetterUnavailable):
        processor.process(messages)
    producer.reject = False
    processor.process(messages)
    assert len(producer.stored) == 1


def test_oversized_originals_are_described_not_copied(processor, producer):
    processor.process(batch(b"x" * 600_000))
    record = producer.stored[0][2]
    assert record["event"] is None and record["event_base64"] is None
    assert record["event_size"] == 600_000


def test_purged_orders_stay_gone(processor, target):
    order = str(uuid.uuid4())
    target.purged = frozenset({order})
    report = processor.process(batch(change("N1", order, 5)))
    assert target.rows == {}
    assert [o.reason for _, o in report.outcomes] == ["purged"]


def test_parked_changes_are_parsed_again_when_the_target_moves_to_another_field_set(
    processor, target
):
    messages = batch(change("N1"))
    processor.park(messages[0], processing.parse(STORE, messages[0].value(), target.checks))
    old = processor.parked[(messages[0].topic(), 0, 0)][1]
    # the target now syncs one field fewer: the parked change no longer carries it
    fewer = type(target.fields)(
        target.fields.version + 1, target.fields.fields[:-2] + (target.fields.fields[-1],)
    )
    target.fields, target.checks = fewer, checks(fewer, STORE)
    processor.reparse_parked()
    new = processor.parked[(messages[0].topic(), 0, 0)][1]
    assert "notes" in old.state.values and "notes" not in new.state.values


def snapshot_read(order_number: str, lsn) -> bytes:
    """A snapshot read of an order, as Debezium sends it: op r, the snapshot's LSN in source."""
    envelope = json.loads(change(order_number))
    envelope["op"] = "r"
    envelope["source"] = {"ts_ms": 1, "snapshot": "true", "lsn": lsn}
    return json.dumps(envelope).encode()


def test_snapshot_reads_are_counted_per_snapshot_with_the_rows_they_wrote(processor, target):
    first = processor.process(batch(snapshot_read("N-1", 100), snapshot_read("N-2", 100)))
    again = processor.process(batch(snapshot_read("N-3", 100), snapshot_read("N-4", 900)))
    streamed = processor.process(batch(change("N-5")))
    assert (first.snapshot_reads, first.snapshots_begun) == (2, 1)
    assert (again.snapshot_reads, again.snapshots_begun) == (2, 1)  # 900 is a new snapshot
    assert (streamed.snapshot_reads, streamed.snapshots_begun) == (0, 0)
    assert target.snapshots == {(STORE, 100): 3, (STORE, 900): 1}
    assert len(target.rows) == 5


@pytest.mark.parametrize("lsn", [None, "100", -1, 2**63, 1.5, True])
def test_a_snapshot_read_without_a_sane_lsn_counts_under_zero(lsn):
    event = processing.parse(STORE, snapshot_read("N-1", lsn))
    assert event.snapshot == 0


def test_conflicts_are_recorded_with_the_batch_where_they_came_from_and_only_once(
    processor, target
):
    order_id = str(uuid.uuid4())
    processor.process(batch(change("N1", order_id)))
    # the warehouse changed the order number to its own value at version 2 meanwhile
    mine = target.rows[order_id]
    target.rows[order_id] = fakes.State(
        order_id, mine.values | {"order_number": "W-2"}, mine.clock | {"order_number": 2}, WAREHOUSE
    )
    tie = change("S-2", order_id, version=2)  # the store's concurrent edit, at version 2 too
    report = processor.process(batch(change("N1", order_id), tie))
    [(where, conflict)] = target.conflicts.values()
    assert where == ("store.public.store_order", 0, 1)
    # the store owns order numbers: on a tie its value wins
    assert (conflict.field, conflict.winner) == ("order_number", "incoming")
    assert conflict.rule == "owner_tie"
    assert (conflict.local_value, conflict.incoming_value) == ("W-2", "S-2")
    assert [len(o.conflicts) for _, o in report.outcomes] == [0, 1]
    processor.process(batch(tie))  # a replay
    assert len(target.conflicts) == 1


def test_conflicts_of_a_refused_batch_are_not_recorded(processor, target):
    order_id = str(uuid.uuid4())
    processor.process(batch(change("N1", order_id)))
    mine = target.rows[order_id]
    target.rows[order_id] = fakes.State(
        order_id, mine.values | {"notes": "w"}, mine.clock | {"notes": 2}, WAREHOUSE
    )
    target.refuse(lambda rows: True, fakes.SqlError("40001"))
    with pytest.raises(fakes.SqlError):
        processor.process(batch(change("N1", order_id, version=2)))
    assert target.conflicts == {}
