"""A replay marks nothing replayed unless Kafka confirmed every delivery (no broker needed)."""

import json

import pytest

from ordersync.kafka.deadletters.queue import DeadLetterError, DeadLetterQueue
from ordersync.kafka.deadletters.records import from_message
from stack.probes import nobody_listens

DLQ = "store.public.store_order.dlq"


def test_an_undelivered_replay_fails_loudly_and_commits_nothing(monkeypatch):
    event = {"topic": "store.public.store_order", "partition": 0, "offset": 1, "event": "{}"}
    letters = [from_message((DLQ, 0, 5), b"k", json.dumps(event).encode())]
    commits = []
    with DeadLetterQueue({"bootstrap.servers": nobody_listens()}, DLQ, timeout=1) as queue:
        monkeypatch.setattr(queue, "read", lambda: letters)
        monkeypatch.setattr(queue, "commit", commits.append)
        with pytest.raises(DeadLetterError, match="0 of 1 delivered"):
            queue.replay()
    assert commits == []


def test_an_unreachable_kafka_is_a_dead_letter_error_not_a_crash():
    with DeadLetterQueue({"bootstrap.servers": nobody_listens()}, DLQ, timeout=1) as queue:
        with pytest.raises(DeadLetterError, match="Kafka at"):
            queue.pending_count()


def test_a_letter_without_its_event_is_skipped_and_reported_but_not_left_pending(monkeypatch):
    whole = {"topic": "store.public.store_order", "partition": 0, "offset": 1, "event": "{}"}
    letters = [
        from_message((DLQ, 0, 5), b"k", json.dumps(whole | {"event": None}).encode()),
        from_message((DLQ, 0, 6), b"k", json.dumps(whole | {"offset": 2}).encode()),
    ]
    produced, commits = [], []
    with DeadLetterQueue({"bootstrap.servers": nobody_listens()}, DLQ, timeout=1) as queue:
        monkeypatch.setattr(queue, "read", lambda: letters)
        monkeypatch.setattr(queue, "produce", produced.extend)
        monkeypatch.setattr(queue, "commit", commits.append)
        result = queue.replay()
    assert [x.dlq_offset for x in produced] == [6]
    assert [x.dlq_offset for x in result.unreplayable] == [5]
    assert commits == [{0: 7}]
