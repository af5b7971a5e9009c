"""docker-compose.yml mirrors the native stack: same services, ports, versions and wiring."""

import re
from pathlib import Path

import pytest
import yaml

from ordersync import topology
from stack import jars
from stack.topology import ROOT
from tests.support.compose import SERVICES, env, published

ONE_SHOT = {
    "kafka-certs",
    "kafka-setup",
    "store-migrate",
    "warehouse-migrate",
    "register-connectors",
}
# compose publishes the default ports; this checkout's native stack may run shifted beside it
NATIVE_PORTS = {
    "store-db": topology.DATABASES["store"],
    "warehouse-db": topology.DATABASES["warehouse"],
    "kafka": topology.KAFKA_PORT,
    "connect": topology.CONNECT_PORT,
    "store-app": topology.APP_PORTS["store"],
    "warehouse-app": topology.APP_PORTS["warehouse"],
    "sink-store-to-warehouse": topology.SINK_METRICS_PORTS["warehouse"],
    "sink-warehouse-to-store": topology.SINK_METRICS_PORTS["store"],
    "connect-watchdog": topology.WATCHDOG_METRICS_PORT,
    "pipeline-monitor": topology.MONITOR_METRICS_PORT,
}
HOST_PORTS = {name: port - topology.PORT_OFFSET for name, port in NATIVE_PORTS.items()}
INTERNAL_BOOTSTRAP = "kafka:29092"


def image_tag(service: str) -> str:
    """The tag of a service's image."""
    image = SERVICES[service]["image"]
    assert ":" in image.rsplit("/", 1)[-1], f"{service}: {image} has no tag"
    return image.rsplit(":", 1)[1]


def test_every_expected_service_is_present():
    assert set(HOST_PORTS) | ONE_SHOT | {"kafka-ui"} <= set(SERVICES)


@pytest.mark.parametrize("service", sorted(s for s in SERVICES if "image" in SERVICES[s]))
def test_every_image_is_pinned(service):
    tag = image_tag(service)
    assert tag != "latest"
    assert re.search(r"\d", tag), f"{service}: {tag} is not a version"


def test_postgres_is_18_with_a_minor():
    for service in ("store-db", "warehouse-db"):
        assert re.fullmatch(r"18\.\d+", image_tag(service)), SERVICES[service]["image"]


def test_connect_and_kafka_versions_match_the_native_jars():
    assert image_tag("connect") == jars.DEBEZIUM_VERSION
    assert image_tag("kafka") == jars.KAFKA_VERSION


@pytest.mark.parametrize("service", sorted(HOST_PORTS))
def test_host_ports_match_the_native_topology(service):
    assert HOST_PORTS[service] in {host for host, _ in published(service)}


def test_sinks_serve_metrics_on_their_published_port():
    for service, port in HOST_PORTS.items():
        if service.startswith("sink-"):
            assert env(service)["SINK_METRICS_PORT"] == str(port)
            assert (port, port) in published(service)


@pytest.mark.parametrize("service", ["store-db", "warehouse-db"])
def test_databases_use_logical_wal(service):
    command = SERVICES[service]["command"]
    command = " ".join(command) if isinstance(command, list) else command
    assert "wal_level=logical" in command


@pytest.mark.parametrize("service", sorted(SERVICES))
def test_depends_on_waits_for_health_or_completion(service):
    for dependency, spec in SERVICES[service].get("depends_on", {}).items():
        if dependency in ONE_SHOT:
            expected = "service_completed_successfully"
        else:
            assert "healthcheck" in SERVICES[dependency], f"{dependency} has no healthcheck"
            expected = "service_healthy"
        assert spec["condition"] == expected, f"{service} -> {dependency}"


def test_one_shot_services_do_not_restart():
    assert {name for name, s in SERVICES.items() if s.get("restart") == "no"} == ONE_SHOT


@pytest.mark.parametrize("service", sorted(set(SERVICES) - ONE_SHOT))
def test_long_running_services_have_a_healthcheck(service):
    assert SERVICES[service]["healthcheck"]["test"]


def test_kafka_advertises_an_internal_and_a_host_listener():
    kafka = env("kafka")
    advertised = dict(item.split("://") for item in kafka["KAFKA_ADVERTISED_LISTENERS"].split(","))
    assert set(advertised.values()) == {INTERNAL_BOOTSTRAP, f"localhost:{HOST_PORTS['kafka']}"}
    assert advertised[kafka["KAFKA_INTER_BROKER_LISTENER_NAME"]] == INTERNAL_BOOTSTRAP
    protocols = dict(
        item.split(":") for item in kafka["KAFKA_LISTENER_SECURITY_PROTOCOL_MAP"].split(",")
    )
    assert set(advertised) | {kafka["KAFKA_CONTROLLER_LISTENER_NAMES"]} <= set(protocols)


def test_containers_reach_kafka_on_the_internal_listener():
    assert env("connect")["BOOTSTRAP_SERVERS"] == INTERNAL_BOOTSTRAP
    assert env("kafka-ui")["KAFKA_CLUSTERS_0_BOOTSTRAPSERVERS"] == INTERNAL_BOOTSTRAP
    for service in ("sink-store-to-warehouse", "sink-warehouse-to-store"):
        assert env(service)["KAFKA_BOOTSTRAP_SERVERS"] == INTERNAL_BOOTSTRAP


def test_connect_defines_every_variable_the_connector_configs_read():
    configs = Path(ROOT, "connectors").glob("*.json")
    wanted = {name for path in configs for name in re.findall(r"\$\{env:(\w+)\}", path.read_text())}
    assert wanted, "no ${env:...} references found in connectors/*.json"
    assert wanted <= set(env("connect"))
    for side in topology.DATABASES:
        assert env("connect")[f"{side.upper()}_DB_HOST"] in SERVICES


APP_SERVICES = ["store-app", "warehouse-app", "store-migrate", "warehouse-migrate"]


@pytest.mark.parametrize("service", APP_SERVICES)
def test_apps_demand_their_own_secrets_and_say_production(service):
    """Compose refuses to start an app without its side's own keys; there are no defaults."""
    side = service.split("-")[0].upper()
    environment = env(service)
    assert environment["APP_ENV"] == "production"
    for name in ("SECRET_KEY", "JWT_SECRET_KEY"):
        assert environment[name].startswith(f"${{{side}_{name}:?"), environment[name]


def test_no_key_is_shared_between_the_two_apps():
    store, warehouse = env("store-app"), env("warehouse-app")
    assert store["SECRET_KEY"] != warehouse["SECRET_KEY"]
    assert store["JWT_SECRET_KEY"] != warehouse["JWT_SECRET_KEY"]
    assert store["SECRET_KEY"] != store["JWT_SECRET_KEY"]


def test_only_the_setup_gets_the_admin_password():
    holders = {name for name in SERVICES if "SYNC_ADMIN_PASSWORD" in env(name)}
    assert holders == {"store-migrate", "warehouse-migrate"}
    assert env("store-migrate")["SYNC_ADMIN_PASSWORD"].startswith("${SYNC_ADMIN_PASSWORD:?")


def test_every_variable_compose_demands_is_in_env_example():
    demanded = set(re.findall(r"\$\{(\w+):\?", (ROOT / "docker-compose.yml").read_text()))
    example = (ROOT / ".env.example").read_text()
    listed = set(re.findall(r"^(\w+)=", example, re.M))
    assert demanded and demanded <= listed, demanded - listed


def test_prometheus_scrapes_every_metrics_endpoint():
    """Every app, sink, the watchdog and the monitor is a scrape target, on its published port."""
    config = yaml.safe_load((ROOT / "monitoring" / "prometheus.yml").read_text())
    targets = {
        t for job in config["scrape_configs"] for c in job["static_configs"] for t in c["targets"]
    }
    wanted = {
        "store-app",
        "warehouse-app",
        "sink-store-to-warehouse",
        "sink-warehouse-to-store",
        "connect-watchdog",
        "pipeline-monitor",
    }
    assert {f"{s}:{HOST_PORTS[s]}" for s in wanted} == targets
    assert (
        "./monitoring/prometheus.yml:/etc/prometheus/prometheus.yml:ro"
        in (SERVICES["prometheus"]["volumes"])
    )


@pytest.mark.parametrize("side", sorted(topology.APP_PORTS))
def test_apps_read_the_sink_writing_into_them_and_kafka_inside_compose(side):
    """The Sync page's settings point at the right sink service and the internal listener."""
    other = next(s for s in topology.APP_PORTS if s != side)
    sink = f"sink-{other}-to-{side}"
    app = env(f"{side}-app")
    assert app["KAFKA_BOOTSTRAP_SERVERS"] == INTERNAL_BOOTSTRAP
    assert app["SYNC_SINK_URL"] == f"http://{sink}:{env(sink)['SINK_METRICS_PORT']}"


def test_connectors_are_registered_from_the_files_in_the_image():
    service = SERVICES["register-connectors"]
    assert "volumes" not in service
    assert service["command"][:3] == ["python", "-m", "connectors.register"]


def seconds(duration: str) -> int:
    """A compose duration of one unit ("5s", "5m") in seconds."""
    return int(duration[:-1]) * {"s": 1, "m": 60, "h": 3600}[duration[-1]]


def test_kafkas_jvm_healthcheck_is_frequent_only_while_starting():
    check = SERVICES["kafka"]["healthcheck"]
    assert seconds(check["start_interval"]) <= 5
    assert seconds(check["interval"]) >= 60
    # a check that misses the start period waits a whole interval: leave room for a slow start
    assert seconds(check["start_period"]) >= 60
