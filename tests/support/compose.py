"""docker-compose.yml: loaded once, as the images read it, and through compose-go's loader."""

import hashlib
import os
import re
import subprocess
import sys
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


def native_cluster(expression: str) -> dict[str, str]:
    """What stack/configs.py renders in cluster mode (make up-cluster), e.g. "kafka_properties(1)".

    In a process of its own: the mode is read once, when stack.topology is imported.
    """
    code = f"from stack import configs; print(configs.{expression})"
    text = subprocess.run(
        [sys.executable, "-c", code],
        # the whole shape spelled out: neither our environment nor the shape the dev stack
        # remembers (stack/shape.py) may leak into it
        env=os.environ
        | {"STACK_BROKERS": "3", "SINK_REPLICAS": "2", "STACK_TOPIC_PARTITIONS": "3"},
        capture_output=True,
        text=True,
        check=True,
        cwd=topology.ROOT,
    ).stdout
    return native_properties(text)


# a value compose must be given: `${NAME:?message}`, and the name it demands
DEMANDED = re.compile(r"\$\{(\w+):\?[^}]*\}")


def demanded(value: str) -> str | None:
    """The variable a value is made of alone (`${NAME:?...}`), or None."""
    match = DEMANDED.fullmatch(value)
    return match[1] if match else None


def interpolated(text: str, secret=lambda name: f"pw-{name}") -> str:
    """A string as compose hands it over: `$$` is `$`, each `${NAME:?...}` is `secret(NAME)`,
    each `${NAME:-default}` its default."""
    parts = (DEFAULTED.sub(lambda m: m[2], part) for part in text.split("$$"))
    return "$".join(DEMANDED.sub(lambda m: secret(m[1]), part) for part in parts)


# a JAAS login's secrets: `password` is the username's, `user_<name>` is <name>'s (PLAIN's users)
JAAS_SECRET = re.compile(r'\b(password|user_([\w-]+))="([^"]*)"')
JAAS_USER = re.compile(r'\busername="([^"]*)"')


def owner(secret: re.Match, value: str) -> str:
    """Whose secret a JAAS option holds: a PLAIN user's own, else the entry's username's."""
    user = JAAS_USER.search(value)
    return secret[2] or (user[1] if user else "?")


def jaas_secrets(value: str) -> list[tuple[str, str]]:
    """Each secret of a JAAS login entry as (whose it is, the value written)."""
    return [(owner(match, value), match[3]) for match in JAAS_SECRET.finditer(value)]


def jaas_users(values) -> set[str]:
    """The usernames every JAAS login entry among the values logs in as."""
    return {user for value in values for user in JAAS_USER.findall(str(value))}


def listener_settings(properties: dict[str, str], listener: str) -> dict[str, str]:
    """The listener.name.<listener>.* settings, keyed by what follows that prefix."""
    prefix = f"listener.name.{listener.lower()}."
    return {k.removeprefix(prefix): v for k, v in properties.items() if k.startswith(prefix)}


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


# compose's brokers have a listener for the host beside the inter-broker one; natively there is one
HOST_LISTENER = "EXTERNAL"
