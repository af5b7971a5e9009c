"""Nothing stops or forks the sync: hostile messages, number swaps, an unwritable DLQ, purges."""

import contextlib
import json
import uuid

import pytest
from confluent_kafka import Producer
from confluent_kafka.admin import AdminClient, AlterConfigOpType, ConfigEntry, ConfigResource
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bench.client import order_body
from ordersync.db.roles import OWNER
from ordersync.sync.mapping import (
    FIELD_NAMES,
    SIDES,
    TABLES,
    columns,
    dead_letter_topic,
    other,
    topic,
)
from stack import supervisor
from stack.probes import NotReady, wait_until
from stack.secrets import kafka_client
from tests.support.db import connect, fetch_row
from tests.support.kafka import end_offset, read_topic, writer
from tests.support.metrics import sink_health, sink_metric
from tests.support.processes import frozen, reconcile, run_module
from tests.support.sync import arrives, settled

SINKS = {side: f"sink-{side}-to-{other(side)}" for side in SIDES}


def handled(source: str) -> float:
    """Every message the sink reading `source` has accounted for: applied, skipped, dead."""
    return sink_metric(other(source), "sink_events_total")


def row(side: str, **overrides) -> dict:
    """A valid row of one side, as Debezium renders it, for a fresh order id."""
    values = {
        "id": str(uuid.uuid4()),
        "order_number": f"FZ-{uuid.uuid4().hex[:10]}",
        columns(side)["customer_name"]: "Fuzz",
        "shipping_address": "1 Fuzz Rd",
        "items": '[{"sku": "F", "quantity": 1}]',
        "status": "pending",
        "tracking_number": None,
        "notes": None,
        "deleted": False,
        "sync_origin": side,
        "field_versions": json.dumps({n: 1 for n in FIELD_NAMES}),
    }
    return values | overrides


# columns an event cannot do without: the bookkeeping, and what a new row needs (a synced
# column missing from a row otherwise means "leave that field alone": docs/schema-changes.md)
REQUIRED = ["id", "sync_origin", "field_versions", "order_number", "shipping_address", "items"]

# for each column, values that are never valid there
HOSTILE = {
    "id": [None, 5, "nope", "x" * 100],
    "order_number": ["", "x" * 33, "a\x00b", 7, None, ["x"]],
    "shipping_address": ["", "z" * 100_000, None],
    "items": [
        "[]",
        "{}",
        "not json",
        3,
        json.dumps([1] * 101),
        json.dumps([{"sku": "F", "quantity": 1}] * 101),
        # item lines the API refuses, one rule each
        '[{"sku": "", "quantity": 1}]',
        json.dumps([{"sku": "s" * 65, "quantity": 1}]),
        '[{"sku": "F", "quantity": 0}]',
        '[{"sku": "F", "quantity": 10001}]',
        '[{"sku": "F", "quantity": 1000000000000}]',
        '[{"sku": "F", "quantity": "1"}]',
        '[{"sku": "F", "quantity": 1.5}]',
        '[{"sku": "F", "quantity": true}]',
        '[{"sku": 5, "quantity": 1}]',
        '[{"sku": "F", "quantity": 1, "price": 3}]',
        '[{"sku": "F"}]',
        '[{"sku": "F", "quantity": 1}, 7]',
    ],
    "status": ["lost", None, 1, "PENDING"],
    "tracking_number": ["t" * 65, 5, ["x"]],
    "notes": ["n" * 2001, "bad\x00", {}],
    "deleted": ["false", 0, None],
    "sync_origin": ["mallory", None, ""],
    "field_versions": [
        '{"status": "abc"}',
        "[1]",
        '{"status": -1}',
        '{"status": 9223372036854775807}',
        '{"no pe": 1}',
        json.dumps({f"f{n}": 1 for n in range(65)}),
        "{",
        5,
        None,
    ],
}


@st.composite
def hostile_envelope(draw, side: str) -> bytes:
    """A Debezium-shaped change with exactly one thing wrong in it."""
    op = draw(st.sampled_from(["c", "u", "r", "d"]))
    body = {"op": op, "source": {"ts_ms": 1}, "before": None, "after": None}
    kind = draw(st.sampled_from(["value", "missing", "op", "shape"]))
    values = row(side)
    if kind == "value":
        column = draw(st.sampled_from(sorted(HOSTILE)))
        values[column] = draw(st.sampled_from(HOSTILE[column]))
    elif kind == "missing":
        del values[draw(st.sampled_from(REQUIRED))]
    elif kind == "op":
        body["op"] = draw(st.sampled_from(["x", None, 3, "", "truncate", ["c"]]))
    body["before" if op == "d" else "after"] = (
        draw(st.sampled_from([None, [], "row", 1])) if kind == "shape" else values
    )
    return json.dumps(body).encode()


def hostile_message(side: str):
    """Random bytes, JSON of any shape, Kafka tombstones, or a near-valid change event."""
    json_values = st.recursive(
        st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=50),
        lambda inner: st.lists(inner, max_size=5) | st.dictionaries(st.text(max_size=10), inner),
        max_leaves=20,
    )
    return st.one_of(
        st.binary(max_size=200),
        json_values.map(lambda v: json.dumps(v).encode()),
        st.just(None),
        hostile_envelope(side),
    )


def insert_sql(side: str, order_number: str) -> str:
    """A plain SQL insert of an order on one side."""
    name = columns(side)["customer_name"]
    return (
        f"INSERT INTO {TABLES[side]} (id, order_number, {name}, shipping_address, items) VALUES "
        f"(gen_random_uuid(), '{order_number}', 'Real', '2 Real St', "
        """'[{"sku": "R", "quantity": 1}]') RETURNING id::text"""
    )


def test_hostile_messages_never_stop_or_fork_the_sync(apis):
    settled()
    pids = {name: supervisor.states()[name]["pid"] for name in SINKS.values()}
    counted = {side: handled(side) for side in SIDES}
    ends = {side: end_offset(topic(side)) for side in SIDES}
    # as each side's Debezium: no other principal may write a change topic (test_kafka_access)
    producers = {side: Producer(writer(topic(side))) for side in SIDES}
    conns = {side: connect(side) for side in SIDES}
    real = {side: [] for side in SIDES}
    garbage = {side: 0 for side in SIDES}

    @settings(
        max_examples=150,
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(data=st.data(), side=st.sampled_from(SIDES))
    def produce(data, side):
        for value in data.draw(st.lists(hostile_message(side), min_size=5, max_size=25)):
            producers[side].produce(topic(side), key=b'{"id": "fuzz"}', value=value)
            garbage[side] += 1
        with conns[side].cursor() as cur:  # a real change between the garbage
            cur.execute(insert_sql(side, f"RL-{uuid.uuid4().hex[:10]}"))
            real[side].append(cur.fetchone()["id"])

    produce()
    assert all(producer.flush(60) == 0 for producer in producers.values())
    for conn in conns.values():
        conn.close()
    assert sum(garbage.values()) >= 1000
    for side in SIDES:
        for order_id in real[side]:
            arrives(other(side), order_id)
    settled()
    for side in SIDES:
        produced = end_offset(topic(side)) - ends[side]
        assert produced >= garbage[side] + len(real[side])
        what = f"every message of {side}'s topic ({produced}) accounted for"
        with contextlib.suppress(NotReady):
            wait_until(lambda s=side, n=produced: handled(s) - counted[s] == n, 60, what)
        assert handled(side) - counted[side] == produced, what
    assert {name: supervisor.states()[name]["pid"] for name in SINKS.values()} == pids
    assert reconcile().returncode == 0


def create_numbered(apis, side: str, numbers: list[str]) -> list[dict]:
    """Create orders with the given numbers on one side and wait until the other side has them."""
    orders = [apis[side].create(order_body(side, order_number=n)) for n in numbers]
    for order in orders:
        arrives(other(side), order["id"], order_number=order["order_number"])
    return orders


@pytest.mark.parametrize("source", SIDES)
def test_swaps_and_cycles_converge_through_a_paused_sink(apis, source):
    target, tag = other(source), uuid.uuid4().hex[:6]
    n = [f"SW{tag}-{i}" for i in range(7)]
    a, b, c, d, e, f, g = create_numbered(apis, source, n)
    dead = sink_metric(target, "sink_dead_letters_total")
    with frozen(SINKS[source]):
        patch = apis[source].patch
        # a swap: A and B trade numbers through a temporary one
        patch(a["id"], {"order_number": f"SW{tag}-tmp"})
        patch(b["id"], {"order_number": n[0]})
        patch(a["id"], {"order_number": n[1]})
        # a cycle: C → D's number, D → E's, E → C's
        patch(c["id"], {"order_number": f"SW{tag}-tmp"})
        patch(e["id"], {"order_number": n[2]})
        patch(d["id"], {"order_number": n[4]})
        patch(c["id"], {"order_number": n[3]})
        # a swap in one SQL statement: the live-number rule is checked at its end
        conn = connect(source)
        with conn.cursor() as cur:
            cur.execute(
                f"UPDATE {TABLES[source]} SET order_number = CASE id WHEN %s THEN %s ELSE %s END "
                "WHERE id IN (%s, %s)",
                (f["id"], n[6], n[5], f["id"], g["id"]),
            )
        conn.close()
    expected = {a["id"]: n[1], b["id"]: n[0], c["id"]: n[3], d["id"]: n[4], e["id"]: n[2]}
    expected |= {f["id"]: n[6], g["id"]: n[5]}
    for order_id, number in expected.items():
        arrives(target, order_id, order_number=number)
    settled()
    assert sink_metric(target, "sink_dead_letters_total") == dead
    assert reconcile().returncode == 0


def set_topic_config(name: str, key: str, value: str | None) -> None:
    """Set (or, with None, reset to the default) one config entry of a topic."""
    admin = AdminClient(kafka_client())
    op = AlterConfigOpType.SET if value is not None else AlterConfigOpType.DELETE
    entry = ConfigEntry(key, value or "", incremental_operation=op)
    resource = ConfigResource(ConfigResource.Type.TOPIC, name, incremental_configs=[entry])
    for future in admin.incremental_alter_configs([resource]).values():
        future.result(30)


def test_no_offset_moves_past_a_dead_letter_kafka_did_not_store(apis):
    settled()
    dlq = dead_letter_topic("store")
    poison_offset = end_offset(topic("store"))
    set_topic_config(dlq, "max.message.bytes", "64")  # every dead letter is now refused
    try:
        producer = Producer(writer(topic("store")))
        producer.produce(topic("store"), key=b'{"id": "p"}', value=b'{"op": "c", "after": 1}')
        assert producer.flush(30) == 0
        behind = apis["store"].create(order_body("store"))

        def stuck():
            health = sink_health("warehouse")
            return health["status"] == "stuck" and health

        health = wait_until(stuck, 60, "the sink to report itself stuck")
        assert health["offset"] == f"{topic('store')}[0]@{poison_offset}"
        assert health["failure"] == "transient" and "not confirmed" in health["error"]
        status = run_module("stack", "status")
        assert status.returncode == 1 and f"@{poison_offset}" in status.stdout
        assert fetch_row("warehouse", behind["id"]) is None  # nothing skipped past the poison
    finally:
        set_topic_config(dlq, "max.message.bytes", None)
    arrives("warehouse", behind["id"])
    wait_until(lambda: sink_health("warehouse")["status"] == "ok", 30, "the sink to recover")
    records = [r for r in read_topic(dlq) if r and r.get("offset") == poison_offset]
    assert len(records) == 1 and records[0]["reason"] == "invalid-event"


def purge(side: str, order_id) -> None:
    """Purge a deleted order, as the owner (the only role allowed to)."""
    conn = connect(side, role=OWNER.name)
    with conn.cursor() as cur:
        cur.execute(f"DELETE FROM {TABLES[side]} WHERE id = %s", (str(order_id),))
    conn.close()


def test_a_late_update_never_revives_a_purged_order(apis):
    order = apis["store"].create(order_body("store"))
    arrives("warehouse", order["id"])
    skipped = sink_metric("store", "sink_events_total", reason="purged")
    with frozen(SINKS["warehouse"]):
        apis["warehouse"].patch(order["id"], {"status": "shipped", "tracking_number": "LATE-1"})
        apis["store"].delete(order["id"])
        purge("store", order["id"])
    settled()
    assert fetch_row("store", order["id"]) is None
    assert sink_metric("store", "sink_events_total", reason="purged") > skipped
    assert arrives("warehouse", order["id"], deleted=True)
    assert reconcile().returncode == 0


def test_a_broker_outage_while_dead_lettering_neither_loses_nor_duplicates(apis):
    settled()
    dlq = dead_letter_topic("warehouse")
    poison_offset = end_offset(topic("warehouse"))
    set_topic_config(dlq, "max.message.bytes", "64")
    try:
        producer = Producer(writer(topic("warehouse")))
        producer.produce(topic("warehouse"), key=b'{"id": "q"}', value=b"\xff not json")
        assert producer.flush(30) == 0
        behind = apis["warehouse"].create(order_body("warehouse"))
        wait_until(lambda: sink_health("store")["status"] == "stuck", 60, "the sink to be stuck")
    finally:
        set_topic_config(dlq, "max.message.bytes", None)
    # the next attempt produces the dead letter again and meets a broker that does not answer
    with frozen("kafka"):
        attempts = sink_health("store").get("attempts", 0)
        wait_until(lambda: sink_health("store").get("attempts", 0) > attempts, 60, "a retry")
        assert fetch_row("store", behind["id"]) is None
    arrives("store", behind["id"])
    wait_until(lambda: sink_health("store")["status"] == "ok", 60, "the sink to recover")
    records = [r for r in read_topic(dlq) if r and r.get("offset") == poison_offset]
    assert len(records) == 1 and records[0]["event_base64"]
