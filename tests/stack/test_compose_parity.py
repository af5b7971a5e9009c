"""Compose's Kafka and Connect, as their images turn the environment into properties, match the
native stack's stack/configs.py, hosts, ports and paths aside.

Compose speaks TLS on every listener, which the native stack does in cluster mode only; its
brokers have a second client listener (the host's) beside the inter-broker one, with the same
logins; its secrets are variables where the native files hold the passwords themselves.
"""

import pytest

from connectors.kafka_setup import env_name
from stack import configs
from tests.support.compose import (
    HOST_LISTENER,
    comparable,
    connect_image_properties,
    demanded,
    env,
    is_tls,
    jaas_secrets,
    kafka_image_properties,
    listener_settings,
    masked,
    native_cluster,
    native_properties,
    plaintext,
    without,
)


def compose_kafka() -> dict[str, str]:
    """The compose broker's properties (the single node's)."""
    return kafka_image_properties(env("kafka"))


def compose_connect() -> dict[str, str]:
    """The compose Connect worker's properties."""
    return connect_image_properties(env("connect"))


@pytest.mark.parametrize(
    ("service", "from_compose", "native"),
    [
        ("kafka", compose_kafka, configs.kafka_properties),
        ("connect", compose_connect, configs.connect_properties),
    ],
)
def test_compose_configures_what_the_native_stack_configures(service, from_compose, native):
    compose, native = comparable(service, from_compose(), native_properties(native()))
    assert plaintext(compose) == plaintext(native)


@pytest.mark.parametrize(
    ("from_compose", "native"),
    [(compose_kafka, "kafka_properties(1)"), (compose_connect, "connect_properties(1)")],
)
def test_compose_has_the_tls_settings_of_the_native_cluster(from_compose, native):
    """The same TLS keys and store types as the native cluster's; files are the volume's."""
    tls = {key: value for key, value in from_compose().items() if is_tls(key)}
    native_tls = {key: value for key, value in native_cluster(native).items() if is_tls(key)}
    assert tls.keys() == native_tls.keys()
    places = {key for key in tls if key.endswith(".location")}
    assert without(tls, places) == without(native_tls, places)


def test_every_listener_and_every_client_speaks_tls():
    kafka = compose_kafka()
    protocols = dict(item.split(":") for item in kafka["listener.security.protocol.map"].split(","))
    assert set(protocols.values()) == {"SASL_SSL"}
    assert {"INTERNAL", HOST_LISTENER, kafka["controller.listener.names"]} == set(protocols)
    connect = compose_connect()
    clients = {key: value for key, value in connect.items() if key.endswith("security.protocol")}
    assert set(clients) == {
        "security.protocol",
        "producer.security.protocol",
        "admin.security.protocol",
    }
    assert set(clients.values()) == {"SASL_SSL"}


def test_the_host_listener_takes_the_logins_of_the_inter_broker_one():
    kafka = compose_kafka()
    host = listener_settings(kafka, HOST_LISTENER)
    assert host and host == listener_settings(kafka, kafka["inter.broker.listener.name"])


@pytest.mark.parametrize("service", ["kafka", "connect", "kafka-ui"])
def test_each_jaas_secret_is_its_principals_own_variable(service):
    logins = [value for value in env(service).values() if "LoginModule" in value]
    assert logins
    for value in logins:
        for user, written in jaas_secrets(value):
            assert demanded(written) == env_name(user), (service, user)


def test_the_image_mappings_follow_the_images():
    assert kafka_image_properties({"KAFKA_A_B": "1", "KAFKA_HEAP_OPTS": "-Xmx1g"}) == {"a.b": "1"}
    assert kafka_image_properties({"KAFKA_X___Y__Z": "1"}) == {"x-y_z": "1"}
    assert connect_image_properties(
        {"GROUP_ID": "g", "CONNECT_PRODUCER_LINGER_MS": "1", "STORE_DB_HOST": "db"}
    ) == {"group.id": "g", "producer.linger.ms": "1"}


def test_masking_names_whose_secret_each_is():
    plain = 'm required username="admin" password="x" user_admin="x" user_bob="y";'
    assert masked({"k": plain}) == {
        "k": 'm required username="admin" password="<admin>" user_admin="<admin>" user_bob="<bob>";'
    }
    assert jaas_secrets(plain) == [("admin", "x"), ("admin", "x"), ("bob", "y")]
