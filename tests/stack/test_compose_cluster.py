"""docker-compose.yml's `cluster` profile: the native cluster mode's three-broker topology."""

import json

import pytest

from stack import envfile, topology
from stack.compose import compose_site
from stack.configs import BROKER_LIVENESS, WORKER_LIVENESS, Shaped, broker_settings, worker_settings
from tests.support.compose import (
    DEFAULTED,
    SERVICES,
    connect_image_properties,
    env,
    kafka_image_properties,
    load,
    native_cluster,
    published,
)

CLUSTER_ENV = topology.ROOT / "cluster.env"
PROFILED = {"kafka-2", "kafka-3", "connect-2"}

NODES = {"kafka": 1, "kafka-2": 2, "kafka-3": 3}


def cluster_settings() -> dict[str, str]:
    """The variables cluster.env sets."""
    return envfile.assignments(CLUSTER_ENV.read_text())


def test_only_the_extra_brokers_and_worker_are_in_the_profile():
    profiled = {name for name, s in SERVICES.items() if s.get("profiles")}
    assert profiled == PROFILED
    assert all(SERVICES[name]["profiles"] == ["cluster"] for name in PROFILED)
    assert cluster_settings()["COMPOSE_PROFILES"] == "cluster"


def test_the_three_nodes_are_the_three_voters_of_one_cluster():
    settings = cluster_settings()
    voters = dict(v.split("@") for v in settings["KAFKA_QUORUM_VOTERS"].split(","))
    assert {int(n): host.split(":")[0] for n, host in voters.items()} == {
        n: name for name, n in NODES.items()
    }
    for name, node in NODES.items():
        variables = env(name, settings)
        assert variables["KAFKA_NODE_ID"] == str(node)
        assert variables["CLUSTER_ID"] == env("kafka")["CLUSTER_ID"]
        assert f"INTERNAL://{name}:29092" in variables["KAFKA_ADVERTISED_LISTENERS"]
    ports = [published(name) for name in NODES]
    assert len({p for pairs in ports for p in pairs}) == 3


def shape_dependent(settings: dict) -> list[str]:
    """The settings compose leaves to cluster.env: shaped ones and the topic sizes."""
    return [k for k, v in settings.items() if isinstance(v, Shaped) or DEFAULTED.search(str(v))]


@pytest.mark.parametrize(
    ("services", "declared", "native", "image"),
    [
        (NODES, broker_settings, "kafka_properties(1)", kafka_image_properties),
        (
            ("connect", "connect-2"),
            worker_settings,
            "connect_properties(1)",
            connect_image_properties,
        ),
    ],
)
def test_the_profile_sizes_and_times_what_native_cluster_mode_does(
    services, declared, native, image
):
    native = native_cluster(native)
    shaped = shape_dependent(declared(compose_site()))
    assert "default.replication.factor" in shaped or "session.timeout.ms" in shaped
    for name in services:
        compose = image(env(name, cluster_settings()))
        assert {k: compose[k] for k in shaped} == {k: native[k] for k in shaped}, name


def test_each_node_is_its_own_node_of_one_cluster():
    native = native_cluster("kafka_properties(1)")
    assert native["default.replication.factor"] == "3" and native["min.insync.replicas"] == "2"
    for name, node in NODES.items():
        assert kafka_image_properties(env(name, cluster_settings()))["node.id"] == str(node)


def test_kafka_setup_waits_for_every_node_of_the_profile():
    """A topic replicated three times cannot be created before the third broker is up."""
    depends = SERVICES["kafka-setup"]["depends_on"]
    assert {name: depends[name]["condition"] for name in NODES} == dict.fromkeys(
        NODES, "service_healthy"
    )
    # outside the profile the other two do not exist: compose then goes on without them
    assert all(depends[name].get("required") is False for name in PROFILED & set(NODES))


def test_the_second_worker_joins_the_first_with_replicated_internal_topics():
    settings = cluster_settings()
    first, second = env("connect", settings), env("connect-2", settings)
    assert first["GROUP_ID"] == second["GROUP_ID"]
    assert second["ADVERTISED_HOST_NAME"] == "connect-2"
    assert second["CONNECT_CONFIG_STORAGE_REPLICATION_FACTOR"] == "3"
    assert second["CONNECT_PRODUCER_ACKS"] == "all"
    assert len(second["BOOTSTRAP_SERVERS"].split(",")) == 3
    assert published("connect") != published("connect-2")


def test_the_loader_starts_the_profile_only_when_cluster_env_asks(composeload, tmp_path):  # noqa: F811
    env_file = tmp_path / ".env"
    envfile.write(env_file)
    single = json.loads(load(composeload, env_file).stdout)["services"]
    assert PROFILED.isdisjoint(single)
    env_file.write_text(env_file.read_text() + CLUSTER_ENV.read_text())
    result = load(composeload, env_file)
    assert result.returncode == 0, result.stderr
    services = json.loads(result.stdout)["services"]
    assert PROFILED <= set(services)
    for name in ("register-connectors", "kafka-setup"):
        sizes = services[name]["environment"]
        assert (sizes["TOPIC_PARTITIONS"], sizes["TOPIC_REPLICATION_FACTOR"]) == ("3", "3"), name
    assert services["kafka-3"]["environment"]["KAFKA_MIN_INSYNC_REPLICAS"] == "2"


def test_the_profile_fails_over_with_the_native_clusters_liveness_settings():
    settings = cluster_settings()
    for name in NODES:
        broker = kafka_image_properties(env(name, settings))
        assert {k: broker[k] for k in BROKER_LIVENESS} == cluster_values(BROKER_LIVENESS), name
    for name in ("connect", "connect-2"):
        worker = connect_image_properties(env(name, settings))
        assert {k: worker[k] for k in WORKER_LIVENESS} == cluster_values(WORKER_LIVENESS), name


def cluster_values(settings: dict) -> dict[str, str]:
    """The cluster's value of each liveness setting, as a property file holds it."""
    return {key: str(value.cluster) for key, value in settings.items()}
