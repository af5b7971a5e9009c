"""Compose's Kafka and Connect, as their images turn the environment into properties, match the
native stack's stack/configs.py, hosts, ports and paths aside."""

import pytest

from stack import configs
from tests.support.compose import (
    ASIDE,
    connect_image_properties,
    env,
    kafka_image_properties,
    native_properties,
    without,
)


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
