"""Compose's Kafka and Connect, as their images turn the environment into properties, match the
native stack's stack/configs.py, hosts, ports and paths aside."""

import pytest

from stack import configs
from tests.support.compose import env

# apache/kafka: KafkaDockerWrapper.getServerConfigsFromEnv skips these (JVM and logging options)
KAFKA_NOT_PROPERTIES = {
    "KAFKA_VERSION",
    "KAFKA_HEAP_OPTS",
    "KAFKA_LOG4J_OPTS",
    "KAFKA_OPTS",
    "KAFKA_JMX_OPTS",
    "KAFKA_JVM_PERFORMANCE_OPTS",
    "KAFKA_GC_LOG_OPTS",
    "KAFKA_LOG4J_ROOT_LOGLEVEL",
    "KAFKA_LOG4J_LOGGERS",
    "KAFKA_TOOLS_LOG4J_LOGLEVEL",
    "KAFKA_JMX_HOSTNAME",
}
# debezium/connect's entrypoint exports these plain names as CONNECT_<property name>
CONNECT_ALIASES = {
    "BOOTSTRAP_SERVERS": "CONNECT_BOOTSTRAP_SERVERS",
    "GROUP_ID": "CONNECT_GROUP_ID",
    "CONFIG_STORAGE_TOPIC": "CONNECT_CONFIG_STORAGE_TOPIC",
    "OFFSET_STORAGE_TOPIC": "CONNECT_OFFSET_STORAGE_TOPIC",
    "STATUS_STORAGE_TOPIC": "CONNECT_STATUS_STORAGE_TOPIC",
    "KEY_CONVERTER": "CONNECT_KEY_CONVERTER",
    "VALUE_CONVERTER": "CONNECT_VALUE_CONVERTER",
    "OFFSET_FLUSH_INTERVAL_MS": "CONNECT_OFFSET_FLUSH_INTERVAL_MS",
    "OFFSET_FLUSH_TIMEOUT_MS": "CONNECT_OFFSET_FLUSH_TIMEOUT_MS",
    "SHUTDOWN_TIMEOUT": "CONNECT_TASK_SHUTDOWN_GRACEFUL_TIMEOUT_MS",
    "ADVERTISED_HOST_NAME": "CONNECT_REST_ADVERTISED_HOST_NAME",
    "ADVERTISED_PORT": "CONNECT_REST_ADVERTISED_PORT",
    "REST_HOST_NAME": "CONNECT_REST_HOST_NAME",
    "REST_PORT": "CONNECT_REST_PORT",
}
# where each side runs rather than how: addresses, listener names, ports and directories
ASIDE = {
    "kafka": {
        "listeners",
        "advertised.listeners",
        "listener.security.protocol.map",
        "inter.broker.listener.name",
        "controller.quorum.voters",
        "log.dirs",
    },
    "connect": {
        "bootstrap.servers",
        "listeners",
        "rest.advertised.host.name",
        "rest.advertised.port",
        "rest.host.name",
        "rest.port",
        "plugin.path",
    },
}


def kafka_image_properties(environment: dict[str, str]) -> dict[str, str]:
    """The server properties apache/kafka writes: KAFKA_ stripped, lowercased, _ -> ."""
    properties = {}
    for name, value in environment.items():
        if name.startswith("KAFKA_") and name not in KAFKA_NOT_PROPERTIES:
            key = name.removeprefix("KAFKA_").lower().replace("_", ".")
            properties[key.replace("...", "-").replace("..", "_")] = value
    return properties


def connect_image_properties(environment: dict[str, str]) -> dict[str, str]:
    """The worker properties debezium/connect writes: CONNECT_ stripped, lowercased, _ -> ."""
    exported = {CONNECT_ALIASES.get(name, name): value for name, value in environment.items()}
    return {
        name.removeprefix("CONNECT_").lower().replace("_", "."): value
        for name, value in exported.items()
        # CONNECT_LOG4J_* go to log4j.properties, not to the worker
        if name.startswith("CONNECT_") and not name.startswith("CONNECT_LOG4J")
    }


def native_properties(text: str) -> dict[str, str]:
    """A properties file rendered by stack/configs.py as a dict."""
    return dict(line.split("=", 1) for line in text.splitlines() if "=" in line)


def without(properties: dict[str, str], keys: set[str]) -> dict[str, str]:
    """The properties minus the keys set aside."""
    return {key: value for key, value in properties.items() if key not in keys}


@pytest.mark.parametrize(
    ("service", "from_image", "native"),
    [
        ("kafka", kafka_image_properties, configs.kafka_properties),
        ("connect", connect_image_properties, configs.connect_properties),
    ],
)
def test_compose_configures_what_the_native_stack_configures(service, from_image, native):
    compose = without(from_image(env(service)), ASIDE[service])
    assert compose == without(native_properties(native()), ASIDE[service])


def test_the_image_mappings_follow_the_images():
    assert kafka_image_properties({"KAFKA_A_B": "1", "KAFKA_HEAP_OPTS": "-Xmx1g"}) == {"a.b": "1"}
    assert kafka_image_properties({"KAFKA_X___Y__Z": "1"}) == {"x-y_z": "1"}
    assert connect_image_properties(
        {"GROUP_ID": "g", "CONNECT_PRODUCER_LINGER_MS": "1", "STORE_DB_HOST": "db"}
    ) == {"group.id": "g", "producer.linger.ms": "1"}
