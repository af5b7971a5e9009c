"""The per-event JSON lines of the sink."""

import json

from connectors.sink.eventlog import lines
from connectors.sink.events import ChangeEvent
from connectors.sink.merge import Conflict, Outcome
from tests.support.fakes import state


class Message:
    """Enough of a Kafka message for the log line."""

    def topic(self):
        return "store.public.store_order"

    def partition(self):
        return 0

    def offset(self):
        return 41


def test_one_json_line_per_event_with_its_order_id_and_outcome():
    event = ChangeEvent("u", state(), 1)
    status = Conflict("status", "incoming", "owner_tie", "packed", 2, "shipped", 2)
    outcomes = [Outcome(True, "applied", conflicts=(status,)), Outcome(False, "stale")]
    text = lines([(Message(), event), (Message(), event)], outcomes, "store", "warehouse")
    rows = [json.loads(line) for line in text.decode().splitlines()]
    assert len(rows) == 2
    assert rows[0] | {"asctime": None} == {
        "asctime": None,
        "levelname": "INFO",
        "name": "sink.event",
        "order_id": "o1",
        "op": "u",
        "source": "store",
        "target": "warehouse",
        "outcome": "applied",
        "reason": "applied",
        "conflicts": ["status"],
        "topic": "store.public.store_order",
        "partition": 0,
        "offset": 41,
    }
    assert (rows[1]["outcome"], rows[1]["reason"], rows[1]["conflicts"]) == (
        "skipped",
        "stale",
        None,
    )


def test_an_empty_batch_writes_nothing():
    assert lines([], [], "store", "warehouse") == b""
