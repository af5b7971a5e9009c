"""Make a real dead letter on the running stack: a store event the warehouse refuses."""

import copy
import json
import uuid

from confluent_kafka import Producer

from bench.client import order_body
from ordersync.kafka.deadletters.queue import DeadLetterQueue
from ordersync.sync.mapping import dead_letter_topic, topic
from stack.probes import wait_until
from stack.secrets import kafka_client
from tests.support.kafka import decoded, end_offset, read_messages, row_of, writer
from tests.support.processes import run_module
from tests.support.sync import arrives


def template_message(apis) -> tuple[bytes, dict]:
    """A real Debezium create event of the store (its key and envelope), read off the topic."""
    start = end_offset(topic("store"))
    order = apis["store"].create(order_body("store"))
    arrives("warehouse", order["id"], order_number=order["order_number"])
    for message in reversed(read_messages(topic("store"), start)):
        envelope = decoded(message.value())  # the fuzz test's garbage may be on the topic too
        if row_of(envelope).get("id") == order["id"] and envelope["op"] == "c":
            return message.key(), envelope
    raise AssertionError(f"no create event of {order['id']} on {topic('store')}")


def forged(key: bytes, envelope: dict, order_id: str, order_number: str) -> tuple[bytes, bytes]:
    """The template's key and envelope, about another order with another order number."""
    key_fields = json.loads(key) | {"id": order_id}
    event = copy.deepcopy(envelope)
    event["after"] |= {"id": order_id, "order_number": order_number}
    return json.dumps(key_fields).encode(), json.dumps(event).encode()


def produce(name: str, key: bytes, value: bytes) -> None:
    """Produce one message and wait until Kafka confirms it."""
    errors = []
    producer = Producer(writer(name))
    producer.produce(name, key=key, value=value, on_delivery=lambda e, _: errors.append(e))
    assert producer.flush(10) == 0 and errors == [None], errors


def pending_letters(source: str) -> list:
    """The dead letters of the direction reading `source` since its last replay."""
    with DeadLetterQueue(kafka_client(), dead_letter_topic(source)) as queue:
        return queue.read()


def pending_letter(source: str, order_id: str):
    """The pending dead letter about one order, if any."""
    return next((x for x in pending_letters(source) if x.order_id == order_id), None)


def dead_lettered_collision(apis) -> tuple[str, dict, str]:
    """Dead-letter a new store order whose number a live warehouse order already has.

    Returns the dead-lettered order's id, the blocking warehouse order and the number.
    """
    # what earlier tests left pending (the fuzz test's garbage) is not this test's business
    run_module("connectors.dlq", "--source", "store", "--discard")
    key, envelope = template_message(apis)
    number = f"DLQ-{uuid.uuid4().hex[:8]}"
    blocker = apis["warehouse"].create(order_body("warehouse", order_number=number))
    arrives("store", blocker["id"], order_number=number)
    order_id = str(uuid.uuid4())
    produce(topic("store"), *forged(key, envelope, order_id, number))
    # refused for its number, it is parked (SINK_PARK_SECONDS) before it is dead-lettered
    wait_until(lambda: pending_letter("store", order_id), 60, f"a dead letter about {order_id}")
    return order_id, blocker, number
