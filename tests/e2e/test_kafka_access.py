"""Only the pipeline writes the pipeline: every Kafka client logs in and may do only its job;
Connect's REST API takes no request without a login. Run in the single-node and cluster passes.
"""

import subprocess
import sys

import pytest
import requests
from confluent_kafka import Consumer, KafkaError, KafkaException, Producer, TopicPartition
from confluent_kafka.admin import AdminClient, NewTopic

from bench.client import order_body
from ordersync import topology
from ordersync.kafka.access import EXAMPLE_GROUP, PRINCIPALS, sink_group
from ordersync.sync.mapping import SIDES, dead_letter_topic, other, replay_topic, topic
from stack.secrets import connect_auth, db_passwords, kafka_client, kafka_passwords
from stack.topology import LOGS, ROOT
from tests.support.sync import arrives

# the same cases on the single node (SASL_PLAINTEXT) and on the cluster (SASL_SSL)
pytestmark = pytest.mark.parametrize(
    "stack_pass", [pytest.param("single"), pytest.param("cluster", marks=pytest.mark.cluster)]
)

# who may write each topic; every other principal is refused
WRITERS = {
    **{topic(side): {f"debezium-{side}"} for side in SIDES},
    **{dead_letter_topic(side): {f"sink-{side}"} for side in SIDES},
    **{replay_topic(side): {"dlq", f"app-{other(side)}"} for side in SIDES},
}
TIMEOUT_MS = 8000


def ends() -> dict[str, int]:
    """The end offset of every topic above, summed over its partitions."""
    return {name: total_end(name) for name in WRITERS}


def total_end(name: str) -> int:
    """The sum of a topic's partitions' end offsets."""
    consumer = Consumer(kafka_client() | {"group.id": "t-access"})
    try:
        parts = consumer.list_topics(name, timeout=10).topics[name].partitions
        return sum(
            consumer.get_watermark_offsets(TopicPartition(name, p), timeout=10)[1] for p in parts
        )
    finally:
        consumer.close()


def produce(settings: dict, name: str) -> tuple[KafkaError | None, list[KafkaError]]:
    """Try to write one message; return the delivery error and the client's error events."""
    events, outcome = [], []
    producer = Producer(
        settings | {"message.timeout.ms": TIMEOUT_MS, "error_cb": events.append, "retries": 0}
    )
    producer.produce(
        name,
        key=b'{"id": "intruder"}',
        value=b'{"op": "d"}',
        on_delivery=lambda error, _msg: outcome.append(error),
    )
    producer.flush(TIMEOUT_MS / 1000 + 10)
    return (outcome or [None])[0], events


def test_a_client_without_a_login_reaches_nothing(stack_pass):
    before = ends()
    anonymous = {"bootstrap.servers": topology.BOOTSTRAP_SERVERS}
    for name in WRITERS:
        error, _ = produce(anonymous, name)
        assert error is not None, f"{name} took a message from a client that did not log in"
    with pytest.raises(KafkaException):
        AdminClient(anonymous | {"socket.timeout.ms": 3000}).list_topics(timeout=5)
    assert ends() == before


def test_a_wrong_password_is_refused(stack_pass):
    settings = kafka_client("debezium-store") | {"sasl.password": "not-the-password"}
    error, events = produce(settings, topic("store"))
    assert error is not None
    assert any(e.code() == KafkaError._AUTHENTICATION for e in events), events


@pytest.mark.parametrize("name", sorted(WRITERS))
def test_only_its_writers_write_a_topic(stack_pass, name):
    before = total_end(name)
    for principal in PRINCIPALS:
        if principal.name in WRITERS[name]:
            continue
        error, _ = produce(kafka_client(principal.name), name)
        assert error is not None and error.code() == KafkaError.TOPIC_AUTHORIZATION_FAILED, (
            f"{principal.name} wrote {name}: {error}"
        )
    assert total_end(name) == before


def read_one(principal: str, name: str, group: str):
    """Read the first message of a topic as a principal in a group it may use, or Kafka's error."""
    consumer = Consumer(
        kafka_client(principal)
        | {"group.id": group, "auto.offset.reset": "earliest", "enable.auto.commit": False}
    )
    try:
        consumer.subscribe([name])
        for _ in range(60):
            message = consumer.poll(0.5)
            if message is not None:
                return message.error() or message
        return None
    finally:
        consumer.close()


def test_read_only_principals_read_and_change_nothing(stack_pass, apis):
    order = apis["store"].create(order_body("store"))  # something to read
    arrives("warehouse", order["id"])
    message = read_one("operator", topic("store"), "stack-access")
    assert message is not None and not isinstance(message, KafkaError), message
    refused = read_one("example", dead_letter_topic("store"), EXAMPLE_GROUP)
    assert isinstance(refused, KafkaError), "example read a dead-letter topic"
    assert refused.code() == KafkaError.TOPIC_AUTHORIZATION_FAILED
    for principal in ("operator", "example"):
        admin = AdminClient(kafka_client(principal))
        futures = admin.create_topics([NewTopic(f"intruder-{principal}", 1, 1)])
        with pytest.raises(KafkaException) as created:
            next(iter(futures.values())).result(timeout=30)
        assert created.value.args[0].code() in (
            KafkaError.TOPIC_AUTHORIZATION_FAILED,
            KafkaError.CLUSTER_AUTHORIZATION_FAILED,
        )
        futures = admin.delete_topics([topic("store")])
        with pytest.raises(KafkaException) as deleted:
            next(iter(futures.values())).result(timeout=30)
        assert deleted.value.args[0].code() == KafkaError.TOPIC_AUTHORIZATION_FAILED


def test_a_sink_reads_only_its_own_direction(stack_pass):
    refused = read_one("sink-store", topic("warehouse"), sink_group("store"))
    assert isinstance(refused, KafkaError) and (
        refused.code() == KafkaError.TOPIC_AUTHORIZATION_FAILED
    ), refused


def test_connect_rest_api_asks_for_a_login(stack_pass):
    user, password = connect_auth()
    for url in topology.CONNECT_URLS:
        assert requests.get(f"{url}/connectors", timeout=10).status_code == 401
        wrong = requests.get(f"{url}/connectors", timeout=10, auth=(user, password + "x"))
        assert wrong.status_code == 401
        put = requests.put(f"{url}/connectors/store-source/pause", timeout=10)
        assert put.status_code == 401
        right = requests.get(f"{url}/connectors", timeout=10, auth=(user, password))
        assert right.status_code == 200 and set(right.json()) >= {
            "store-source",
            "warehouse-source",
        }
    status = requests.get(
        f"{topology.CONNECT_URL}/connectors/store-source/status", timeout=10, auth=(user, password)
    ).json()
    assert status["connector"]["state"] == "RUNNING"


def test_connector_configs_hold_no_secrets(stack_pass):
    secrets = list(kafka_passwords().values())
    for side in SIDES:
        config = requests.get(
            f"{topology.CONNECT_URL}/connectors/{side}-source/config",
            timeout=10,
            auth=connect_auth(),
        ).text
        assert "${env:" in config
        assert not [s for s in secrets if s in config]


def test_no_password_of_the_stack_reaches_a_log(stack_pass):
    passwords = [*kafka_passwords().values(), *db_passwords().values()]
    for log in LOGS.glob("*.log"):
        text = log.read_text(errors="replace")
        assert not [p for p in passwords if p in text], f"a password is in {log}"


def test_a_rotated_password_replaces_the_old_one(stack_pass):
    old = kafka_client("example")
    command = [sys.executable, "-m", "stack", "rotate-kafka-password", "example"]
    rotated = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert rotated.returncode == 0, rotated.stdout + rotated.stderr
    new = kafka_client("example")
    assert new["sasl.password"] != old["sasl.password"]
    assert old["sasl.password"] not in rotated.stdout + rotated.stderr
    message = read_one("example", topic("store"), EXAMPLE_GROUP)
    assert message is not None and not isinstance(message, KafkaError), message
    error, events = produce(old, topic("store"))
    assert any(e.code() == KafkaError._AUTHENTICATION for e in events), events
