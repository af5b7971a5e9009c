"""The sink's side of a rebalance, with fakes: what moves away is committed, then forgotten."""

from confluent_kafka import TopicPartition

from connectors.sink import metrics, retry
from connectors.sink.config import SinkConfig
from connectors.sink.loop import Sink
from tests.support import fakes
from tests.support.fakes import TOPIC, OnPartition, change


class Consumer:
    """Records stored and committed offsets."""

    def __init__(self):
        self.stored, self.committed = [], []

    def store_offsets(self, offsets=None):
        self.stored.append({(tp.topic, tp.partition): tp.offset for tp in offsets})

    def commit(self, offsets=None, asynchronous=True):
        assert not asynchronous, "a revoked partition's offset must be committed before it moves"
        self.committed.append({(tp.topic, tp.partition): tp.offset for tp in offsets})


def sink() -> tuple[Sink, Consumer, fakes.Target]:
    """A sink over fakes."""
    consumer, target = Consumer(), fakes.Target()
    config = SinkConfig(source="store", target="warehouse", dsn="unused")
    return Sink(config, consumer, fakes.Producer(), target), consumer, target


def handle(the_sink: Sink, messages: list) -> None:
    """Put a batch in flight and apply it, as the loop does."""
    the_sink.positions.start(messages)
    the_sink.handle()


def refuse_clash(target) -> None:
    """Make the target refuse an order numbered CLASH as a number clash: it gets parked."""
    target.refuse(
        lambda rows: any(s.values["order_number"] == "CLASH" for s in rows.values()),
        fakes.SqlError("23P01"),
    )


def test_revoked_partitions_are_committed_where_they_are_done_and_forgotten():
    the_sink, consumer, _ = sink()
    handle(the_sink, [OnPartition(change("P0"), 4, 0), OnPartition(change("P1"), 7, 1)])
    the_sink.positions.hold([OnPartition(change("H1"), 8, 1), OnPartition(change("H0"), 5, 0)])
    the_sink.rebalance.revoked(None, [TopicPartition(TOPIC, 1)])
    assert consumer.committed == [{(TOPIC, 1): 8}]
    assert [m.partition() for m in the_sink.positions.held] == [0]
    assert the_sink.positions.reached == {(TOPIC, 0): 5}


def test_a_revoked_partition_is_committed_no_further_than_its_parked_change():
    the_sink, consumer, target = sink()
    refuse_clash(target)
    handle(the_sink, [OnPartition(change("CLASH"), 3, 1), OnPartition(change("FINE"), 4, 1)])
    assert list(the_sink.processor.parked) == [(TOPIC, 1, 3)]
    the_sink.rebalance.revoked(None, [TopicPartition(TOPIC, 1)])
    assert consumer.committed == [{(TOPIC, 1): 3}]
    assert the_sink.processor.parked == {}  # the new owner reads it again from offset 3


def test_a_batch_in_flight_loses_the_messages_of_a_revoked_partition():
    the_sink, _, _ = sink()
    the_sink.positions.start([OnPartition(change("A"), 1, 0), OnPartition(change("B"), 1, 2)])
    the_sink.rebalance.lost(None, [TopicPartition(TOPIC, 2)])
    assert [m.partition() for m in the_sink.positions.in_flight] == [0]


def test_a_partition_revoked_mid_retry_leaves_the_batch_before_the_next_attempt(monkeypatch):
    monkeypatch.setattr(retry, "wait_for", lambda failure: lambda state: 0)
    the_sink, consumer, target = sink()
    commit = target.commit
    failures = [fakes.SqlError("40P01")]

    def fail_once_then_lose_partition_1():
        if failures:
            the_sink.rebalance.revoked(None, [TopicPartition(TOPIC, 1)])
            raise failures.pop()
        commit()

    target.commit, target.reset = fail_once_then_lose_partition_1, target.rollback
    handle(the_sink, [OnPartition(change("A"), 4, 0), OnPartition(change("B"), 9, 1)])
    assert sorted(s.values["order_number"] for s in target.rows.values()) == ["A"]
    assert consumer.stored == [{(TOPIC, 0): 5}] and consumer.committed == []
    assert the_sink.positions.reached == {(TOPIC, 0): 5}


def test_a_dead_letter_read_again_after_its_partition_came_back_is_not_sent_twice():
    the_sink, _, _ = sink()
    producer = the_sink.dead_letters.producer
    poison = OnPartition(b"{not json", 3, 0)
    handle(the_sink, [poison])
    the_sink.rebalance.lost(None, [TopicPartition(TOPIC, 0)])
    handle(the_sink, [OnPartition(b"{not json", 3, 0)])  # read again from the committed offset
    assert [record["offset"] for _, _, record in producer.stored] == [3]


def test_a_revoke_while_looking_ahead_shrinks_the_batch_about_to_be_applied():
    the_sink, consumer, target = sink()
    current = [OnPartition(change("A"), 1, 0), OnPartition(change("B"), 1, 1)]
    later = [OnPartition(change("C"), 2, 0)]

    def consume(count, timeout):  # librdkafka runs the rebalance callback inside the call
        the_sink.rebalance.revoked(None, [TopicPartition(TOPIC, 1)])
        return later

    consumer.consume = consume
    the_sink.positions.start(current)  # as the loop does before it looks ahead
    the_sink.look_ahead()
    the_sink.handle(the_sink.parsing.result())
    assert sorted(s.values["order_number"] for s in target.rows.values()) == ["A"]
    assert consumer.stored == [{(TOPIC, 0): 2}]
    assert the_sink.positions.held == later


def test_lag_counts_what_is_not_applied_not_what_the_consumer_has_fetched():
    the_sink, consumer, target = sink()
    refuse_clash(target)
    handle(the_sink, [OnPartition(change("A"), 59, 0), OnPartition(change("CLASH"), 40, 1)])
    # the consumer is past the applied batch and the held look-ahead: 100 on both partitions
    consumer.assignment = lambda: ["ignored"]
    consumer.position = lambda _: [TopicPartition(TOPIC, 0, 100), TopicPartition(TOPIC, 1, 100)]
    consumer.get_watermark_offsets = lambda partition, cached: (0, 150)
    the_sink.lag.observe()
    lag = {n: metrics.CONSUMER_LAG.labels(n)._value.get() for n in ("0", "1")}
    assert lag == {"0": 150 - 60, "1": 150 - 40}  # partition 1 waits from its parked change
