"""Compose's Kafka, Connect and sink settings are the launcher's: generated, and read as declared.

`python -m stack.compose` writes them from stack/configs.py and connectors/sink/config.py; here,
that the files hold what it writes now, and that each image turns them back into the declared
settings (tests/support/compose.py reads the environment as the images do).
"""

from pathlib import Path

import pytest

from connectors.kafka_setup import env_name
from connectors.sink.config import SinkConfig
from stack import compose
from stack.configs import Shaped, broker_settings, worker_settings
from tests.support.compose import (
    DEFAULTED,
    HOST_LISTENER,
    connect_image_properties,
    demanded,
    env,
    jaas_secrets,
    kafka_image_properties,
    listener_settings,
)

IMAGES = [
    ("kafka", lambda: broker_settings(compose.compose_site()), kafka_image_properties),
    ("connect", lambda: worker_settings(compose.worker_site()), connect_image_properties),
]


def test_the_generated_settings_are_current():
    stale = [path.name for path, text in compose.outputs().items() if path.read_text() != text]
    assert not stale, "run python -m stack.compose"


def as_compose_gives_it(value) -> str:
    """A declared value as the container sees it with no settings of the operator's."""
    value = value.single if isinstance(value, Shaped) else value
    return DEFAULTED.sub(lambda match: match[2], str(value))


@pytest.mark.parametrize(("service", "declared", "image"), IMAGES)
def test_each_image_reads_every_declared_setting(service, declared, image):
    settings = declared()
    properties = image(env(service))
    assert {key: properties.get(key) for key in settings} == {
        key: as_compose_gives_it(value) for key, value in settings.items()
    }


@pytest.mark.parametrize("service", ["sink-store-to-warehouse", "sink-warehouse-to-store"])
def test_each_sink_reads_its_settings_with_one_kafka_address(service, monkeypatch):
    source, target = service.removeprefix("sink-").split("-to-")
    monkeypatch.setattr(Path, "is_file", lambda path: True)  # the CA is the container's
    environment = {key: as_compose_gives_it(value) for key, value in env(service).items()}
    config = SinkConfig.from_env(source, target, environment)
    assert config.kafka["bootstrap.servers"] == "kafka:29092"
    assert config.kafka["sasl.username"] == f"sink-{source}"
    assert not any("BOOTSTRAP" in name for name in environment if name.startswith("SINK_"))


def test_the_image_spellings_are_the_images():
    assert compose.kafka_variable("listener.name.x.scram-sha-512.a_b") == (
        "KAFKA_LISTENER_NAME_X_SCRAM___SHA___512_A__B"
    )
    assert kafka_image_properties({"KAFKA_X___Y__Z": "1"}) == {"x-y_z": "1"}
    assert kafka_image_properties({"KAFKA_A_B": "1", "KAFKA_HEAP_OPTS": "-Xmx1g"}) == {"a.b": "1"}
    assert connect_image_properties(
        {"GROUP_ID": "g", "CONNECT_PRODUCER_LINGER_MS": "1", "STORE_DB_HOST": "db"}
    ) == {"group.id": "g", "producer.linger.ms": "1"}
    with pytest.raises(ValueError, match="a_b"):
        compose.connect_variable("a_b")


def test_every_listener_and_every_client_speaks_tls():
    kafka = kafka_image_properties(env("kafka"))
    protocols = dict(item.split(":") for item in kafka["listener.security.protocol.map"].split(","))
    assert set(protocols.values()) == {"SASL_SSL"}
    assert {"INTERNAL", HOST_LISTENER, kafka["controller.listener.names"]} == set(protocols)
    connect = connect_image_properties(env("connect"))
    clients = {key: value for key, value in connect.items() if key.endswith("security.protocol")}
    assert set(clients) == {
        "security.protocol",
        "producer.security.protocol",
        "consumer.security.protocol",
        "admin.security.protocol",
    }
    assert set(clients.values()) == {"SASL_SSL"}


def test_the_host_listener_takes_the_logins_of_the_inter_broker_one():
    kafka = kafka_image_properties(env("kafka"))
    host = listener_settings(kafka, HOST_LISTENER)
    assert host and host == listener_settings(kafka, kafka["inter.broker.listener.name"])


@pytest.mark.parametrize("service", ["kafka", "connect", "kafka-ui"])
def test_each_jaas_secret_is_its_principals_own_variable(service):
    logins = [value for value in env(service).values() if "LoginModule" in value]
    assert logins
    for value in logins:
        for user, written in jaas_secrets(value):
            assert demanded(written) == env_name(user), (service, user)
