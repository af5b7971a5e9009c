"""The sink's poll loop with fakes: retry until a batch goes through, never store offsets early."""

import threading

import orjson
import psycopg2
import pytest

from connectors.sink import loop, metrics, retry
from connectors.sink import processor as processing
from connectors.sink.config import SinkConfig
from connectors.sink.loop import Sink
from tests.support import fakes
from tests.support.fakes import batch, change


class Consumer:
    """What the loop asks of a Kafka consumer; `arriving` is what a poll returns next."""

    def __init__(self):
        self.stored, self.arriving, self.paused = [], [], []

    def assignment(self):
        return ["p0"]

    def pause(self, partitions):
        self.paused = list(partitions)

    def resume(self, partitions):
        self.paused = []

    def poll(self, timeout):
        return self.arriving.pop(0) if self.arriving else None

    def store_offsets(self, message=None, offsets=None):
        self.stored.append({(tp.topic, tp.partition): tp.offset for tp in offsets})

    def consume(self, count, timeout):
        taken, self.arriving = self.arriving[:count], self.arriving[count:]
        return taken

    def subscribe(self, topics, **callbacks):
        pass

    def position(self, partitions):
        return []

    def close(self):
        pass


class FlakyTarget(fakes.Target):
    """A target whose first commits fail with a chosen SQLSTATE."""

    def __init__(self, failures: list[str], on_failure=None):
        super().__init__()
        self.failures, self.on_failure = failures, on_failure

    def commit(self):
        if self.failures:
            code = self.failures.pop(0)
            if self.on_failure:
                self.on_failure()
            raise fakes.SqlError(code)
        super().commit()

    def reset(self):
        self.rollback()


@pytest.fixture(autouse=True)
def no_waiting(monkeypatch):
    """Retry at once: the backoff itself is tenacity's."""
    monkeypatch.setattr(retry, "wait_for", lambda failure: lambda state: 0)


def sink(target, batch_size: int = 2000) -> tuple[Sink, Consumer]:
    """A sink over fakes."""
    consumer = Consumer()
    config = SinkConfig(source="store", target="warehouse", dsn="unused", batch_size=batch_size)
    return Sink(config, consumer, fakes.Producer(), target), consumer


def applied_batches() -> float:
    """How many batches the apply-time histogram has seen."""
    [family] = metrics.APPLY_SECONDS.collect()
    return next(s.value for s in family.samples if s.name == "sink_apply_seconds_count")


def handle(the_sink: Sink, messages: list) -> None:
    """Put a batch in flight and apply it, as the loop does."""
    the_sink.positions.start(messages)
    the_sink.handle()


def test_a_batch_is_retried_until_it_applies_and_only_then_stored():
    target = FlakyTarget(["40P01", "08006", "42501"])
    the_sink, consumer = sink(target)
    retried = metrics.RETRIES.labels("transient")._value.get()
    applied = applied_batches()
    handle(the_sink, batch(change("N1"), change("N2")))
    assert len(target.rows) == 2 and target.commits == 1
    assert consumer.stored == [{("store.public.store_order", 0): 2}]
    assert metrics.RETRIES.labels("transient")._value.get() == retried + 2
    assert applied_batches() == applied + 1  # the attempt that went through is timed
    assert the_sink.health.stuck == {} and consumer.paused == []


def test_a_kafka_tombstone_first_in_a_poll_is_accounted_for_not_dropped():
    # a tombstone's message has a length of 0: a poll that returns it is still a message
    the_sink, consumer = sink(fakes.Target())
    consumer.arriving = [fakes.Message(None, 0), fakes.Message(change("N1"), 1)]
    skipped = metrics.EVENTS.labels("skipped", "kafka-tombstone")._value.get()
    the_sink.step()
    assert metrics.EVENTS.labels("skipped", "kafka-tombstone")._value.get() == skipped + 1
    assert consumer.stored == [{("store.public.store_order", 0): 2}]


def test_the_sink_reports_itself_stuck_while_retrying_then_healthy():
    seen = []
    target = FlakyTarget(["42703", "42703"])
    the_sink, _ = sink(target)

    def look():
        the_sink.health.polled()
        seen.append(the_sink.health.body())

    target.on_failure = look
    handle(the_sink, batch(change("N1")))
    assert seen[0]["status"] == "ok"  # the first failure is not yet reported
    assert seen[1]["status"] == "stuck" and seen[1]["failure"] == "schema"
    assert seen[1]["offset"] == "store.public.store_order[0]@0"
    assert seen[1]["error"] == "refused"
    look()
    assert seen[-1]["status"] == "ok"


def test_asked_to_stop_mid_retry_it_stores_nothing():
    target = FlakyTarget(["40001"] * 100)
    the_sink, consumer = sink(target)
    target.on_failure = the_sink.stop
    handle(the_sink, batch(change("N1")))
    assert consumer.stored == [] and target.rows == {} and len(target.failures) == 99


def test_a_failure_it_cannot_classify_as_retryable_crashes_instead_of_skipping(monkeypatch):
    the_sink, consumer = sink(fakes.Target())
    monkeypatch.setattr(the_sink.processor, "process", lambda messages, parsed=None: 1 / 0)
    with pytest.raises(ZeroDivisionError):
        handle(the_sink, batch(change("N1")))
    assert consumer.stored == []


def test_messages_polled_while_waiting_are_kept_for_the_next_batch():
    the_sink, consumer = sink(fakes.Target())
    early = batch(change("N1"))[0]
    consumer.arriving.append(early)
    the_sink.retry.idle(0.05)
    assert consumer.paused == ["p0"]
    assert the_sink.next_batch() == [early]


def test_a_broken_connection_is_dropped_to_reconnect_on_retry():
    target = FlakyTarget([])
    the_sink, _ = sink(target)
    closed = []
    target.reset = lambda: closed.append(True)
    the_sink.positions.start(batch(change("N1")))

    class State:
        attempt_number = 1

        class outcome:
            @staticmethod
            def exception():
                return psycopg2.OperationalError("server closed the connection")

    the_sink.retry.failed(State)
    assert closed == [True] and the_sink.health.stuck["failure"] == "transient"


def test_the_next_batch_is_parsed_in_a_thread_while_the_current_one_is_applied(monkeypatch):
    monkeypatch.setattr(loop, "ensure_topics", lambda config: None)
    parsed_by = []
    real = processing.parse

    def parse(side, value, fields=None):
        parsed_by.append((orjson.loads(value)["after"]["order_number"], threading.current_thread()))
        return real(side, value, fields)

    monkeypatch.setattr(processing, "parse", parse)
    target = fakes.Target()
    the_sink, consumer = sink(target, batch_size=2)
    consumer.arriving = batch(*(change(f"N{n}") for n in range(4)))
    commit = target.commit

    def commit_then_stop_after_two():
        commit()
        if target.commits == 2:
            the_sink.stop()

    target.commit = commit_then_stop_after_two
    the_sink.run()
    assert sorted(s.values["order_number"] for s in target.rows.values()) == [
        "N0",
        "N1",
        "N2",
        "N3",
    ]
    main = threading.main_thread()
    assert sorted((number, thread is main) for number, thread in parsed_by) == [
        ("N0", True),
        ("N1", True),
        ("N2", False),  # each parsed once, the second batch while the first was applied
        ("N3", False),
    ]
    assert consumer.stored[-1] == {("store.public.store_order", 0): 4}
