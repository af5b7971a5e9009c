"""docker-compose.yml: loaded once, as the images read it, and through compose-go's loader."""

import hashlib
import os
import re
import subprocess
from pathlib import Path

import yaml

from stack import topology

COMPOSE = yaml.safe_load((topology.ROOT / "docker-compose.yml").read_text())


SERVICES = COMPOSE["services"]


DEFAULTED = re.compile(r"\$\{(\w+):-([^}]*)\}")


def env(service: str, settings: dict[str, str] | None = None) -> dict[str, str]:
    """A service's environment as a dict of strings, whichever form the file uses.

    `${NAME:-default}` becomes NAME's value in `settings`, else its default, as compose does.
    """
    raw = SERVICES[service].get("environment", {})
    if isinstance(raw, list):
        raw = dict(item.split("=", 1) for item in raw)

    def resolve(match: re.Match) -> str:
        return (settings or {}).get(match[1], match[2])

    return {key: DEFAULTED.sub(resolve, str(value)) for key, value in raw.items()}


def published(service: str) -> set[tuple[int, int]]:
    """The (host, container) port pairs a service publishes."""
    pairs = set()
    for port in SERVICES[service].get("ports", []):
        *_, host, container = str(port).split(":")
        pairs.add((int(host), int(container)))
    return pairs


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


COMPOSE_FILE = topology.ROOT / "docker-compose.yml"
# the Go loader of tests/stack/test_compose_loader.py
SOURCE = topology.ROOT / "tests" / "stack" / "composeload"


CACHE = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "cdc-order-sync"


# names a caller's shell may export that would hide a missing secret from the loader
CLEAN_ENV = {name: os.environ[name] for name in ("PATH", "HOME") if name in os.environ}


def source_digest() -> str:
    """A digest of the loader's sources: a change to any of them means a new build."""
    digest = hashlib.sha256()
    for name in ("go.mod", "go.sum", "main.go"):
        digest.update((SOURCE / name).read_bytes())
    return digest.hexdigest()[:16]


def load(binary: Path, env_file: Path) -> subprocess.CompletedProcess:
    """Run the loader on docker-compose.yml with one env file and no inherited secrets."""
    return subprocess.run(
        [str(binary), str(COMPOSE_FILE), str(env_file)],
        env=CLEAN_ENV,
        capture_output=True,
        text=True,
        timeout=120,
    )
