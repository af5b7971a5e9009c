"""The anchor of the sink drain: Debezium's JDBC sink connector applying the same events.

Only the benchmark uses it, so its jars have their own lock (bench/jdbc.lock.json, written by
`python -m bench.jdbc lock`) and it runs in its own standalone Connect worker, started for the
scenario: the product's Connect never loads it. 3.6.1.Final is not on Maven Central here;
3.5.0.Final is. It upserts rows as they are and cannot merge fields: raw apply throughput.
"""

import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psutil

from bench import cost, kafka
from bench.db import connect, scalar
from ordersync import topology
from ordersync.db.roles import OWNER
from stack import jars
from stack.components import java
from stack.configs import properties
from stack.secrets import db_passwords
from stack.topology import LOGS, STATE

VERSION = "3.5.0.Final"
JAR_SET = jars.JarSet(
    "plugins/debezium-connector-jdbc",
    (f"io.debezium:debezium-connector-jdbc:{VERSION}",),
    # Kafka Connect provides these to every plugin; shipping copies would shadow them (an older
    # jackson-databind in the plugin clashes with the worker's Blackbird module at Hibernate start)
    ("org.apache.kafka:*", "org.slf4j:*", "com.fasterxml.jackson.core:*"),
)
LOCK = Path(__file__).with_name("jdbc.lock.json")
PLUGINS = STATE / "bench-plugins"
DATABASE = "warehouse_jdbc"


def lock() -> None:
    """Resolve the connector and its dependencies and pin them with their SHA-256."""
    LOCK.write_text(json.dumps(jars.resolve(jars.maven(), JAR_SET), indent=1) + "\n")


def install() -> Path:
    """Put exactly the locked jars into the bench's own plugin folder; return the plugin path."""
    target = PLUGINS / Path(JAR_SET.folder).name
    marker = target / ".lock-sha256"
    digest = jars.sha256(LOCK)
    if not (marker.exists() and marker.read_text() == digest):
        ctx = jars.maven()
        target.mkdir(parents=True, exist_ok=True)
        for old in target.glob("*.jar"):
            old.unlink()
        for entry in json.loads(LOCK.read_text()):
            jars.place(jars.fetch(ctx, entry), target)
        marker.write_text(digest)
    return PLUGINS


def envelope_schema() -> dict:
    """Connect's JSON schema of a store-side change event, which the JDBC sink requires."""
    row = [{"field": "id", "type": "string", "optional": False}] + [
        {"field": name, "type": "boolean" if name == "deleted" else "string", "optional": True}
        for name in ("order_number", "customer_name", "shipping_address", "items", "status")
        + ("tracking_number", "notes", "deleted", "sync_origin", "field_versions")
    ]
    value = {"type": "struct", "name": "store.public.store_order.Value", "fields": row}
    source = {
        "type": "struct",
        "name": "io.debezium.connector.postgresql.Source",
        "optional": False,
        "fields": [{"field": "ts_ms", "type": "int64", "optional": False}]
        + [{"field": f, "type": "string", "optional": True} for f in ("db", "schema", "table")],
    }
    return {
        "type": "struct",
        "name": "store.public.store_order.Envelope",
        "optional": False,
        "fields": [
            value | {"field": "before", "optional": True},
            value | {"field": "after", "optional": True},
            source | {"field": "source"},
            {"field": "op", "type": "string", "optional": False},
            {"field": "ts_ms", "type": "int64", "optional": True},
        ],
    }


KEY_SCHEMA = {
    "type": "struct",
    "name": "store.public.store_order.Key",
    "optional": False,
    "fields": [{"field": "id", "type": "string", "optional": False}],
}


def with_schema(key: dict, value: dict) -> tuple[str, str]:
    """An event's key and value as JSON with their schemas (schemas.enable=true)."""
    value = value | {"source": value["source"] | {"db": "store", "schema": "public"}}
    value["ts_ms"] = value["source"]["ts_ms"]
    return (
        json.dumps({"schema": KEY_SCHEMA, "payload": key}),
        json.dumps({"schema": ENVELOPE, "payload": value}),
    )


ENVELOPE = envelope_schema()


def scratch_database() -> str:
    """A fresh database owned by the owner role, where the connector creates its table."""
    admin = connect("warehouse", "postgres")
    with admin.cursor() as cur:
        cur.execute(f"DROP DATABASE IF EXISTS {DATABASE}")
        cur.execute(f"CREATE DATABASE {DATABASE} OWNER {OWNER.name}")
    admin.close()
    return DATABASE


def connector(topic: str, table: str, batch_size: int | None) -> dict:
    """The JDBC sink's settings: upsert by the record key, deletes applied."""
    settings = {
        "name": f"bench-jdbc-{table}",
        "connector.class": "io.debezium.connector.jdbc.JdbcSinkConnector",
        "tasks.max": 1,
        "topics": topic,
        "connection.url": (
            f"jdbc:postgresql://{topology.HOST}:{topology.DATABASES['warehouse']}/{DATABASE}"
        ),
        "connection.username": OWNER.name,
        "connection.password": db_passwords()[OWNER.name],
        "insert.mode": "upsert",
        "delete.enabled": "true",
        "primary.key.mode": "record_key",
        "primary.key.fields": "id",
        "schema.evolution": "basic",
        "collection.name.format": table,
    }
    if batch_size:
        settings["batch.size"] = batch_size
    return settings


def worker(directory: Path, plugins: Path, batch_size: int | None) -> dict:
    """A standalone Connect worker reading schema-ful JSON, its offsets in a scratch file."""
    json_converter = "org.apache.kafka.connect.json.JsonConverter"
    settings = {
        "bootstrap.servers": topology.BOOTSTRAP_SERVERS,
        "key.converter": json_converter,
        "value.converter": json_converter,
        "key.converter.schemas.enable": "true",
        "value.converter.schemas.enable": "true",
        "offset.storage.file.filename": directory / "offsets",
        "plugin.path": plugins,
        "plugin.discovery": "only_scan",
        "listeners": f"http://{topology.HOST}:{topology.CONNECT_PORT + 100}",
        "consumer.auto.offset.reset": "earliest",
    }
    # a benchmark, so the admin: its scratch topic and group belong to no job principal
    login = kafka.java()
    settings |= login | {f"consumer.{key}": value for key, value in login.items()}
    if batch_size:
        # the task gets at most max.poll.records per put(): a larger batch needs both
        settings["consumer.max.poll.records"] = batch_size
    return settings


def group(table: str) -> str:
    """The consumer group of the connector writing a table (Connect names it after it)."""
    return f"connect-bench-jdbc-{table}"


def drain(topic: str, table: str, events: int, batch_size: int | None = None) -> dict:
    """The JDBC sink applying a pre-filled topic to a scratch table; events/s, CPU, peak RSS."""
    plugins = install()
    scratch_database()
    with tempfile.TemporaryDirectory() as scratch:
        directory = Path(scratch)
        (directory / "worker.properties").write_text(
            properties(worker(directory, plugins, batch_size))
        )
        (directory / "connector.properties").write_text(
            properties(connector(topic, table, batch_size))
        )
        command = java(
            "org.apache.kafka.connect.cli.ConnectStandalone",
            str(directory / "worker.properties"),
            str(directory / "connector.properties"),
        )
        log = (LOGS / "bench-jdbc.log").open("w")
        process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT)
        try:
            return watch(process, table, events)
        finally:
            process.terminate()
            process.wait(60)
            log.close()


def watch(process: subprocess.Popen, table: str, events: int) -> dict:
    """Poll the target table until every event is applied; rate from the first row to the last."""
    target = connect("warehouse", DATABASE)
    pids = {"jdbc_sink": process.pid, "warehouse_db": cost.stack_pids()["warehouse_db"]}
    meter = cost.Meter(pids, cost.sessions(warehouse=target))
    sampled, peak, first, done = psutil.Process(process.pid), 0, None, None
    deadline = time.monotonic() + 600
    count = f"SELECT count(*) FROM {table}"
    while done is None and time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the JDBC sink worker exited with {process.returncode}")
        peak = max(peak, sampled.memory_info().rss)
        exists = scalar(target, "SELECT to_regclass(%s) IS NOT NULL", table)
        applied = scalar(target, count) if exists else 0
        if applied and first is None:
            first = time.monotonic()
            meter.start()  # from the first applied row, as the sink's own drain: not JVM start
        if applied >= events:
            done = time.monotonic()
            used = meter.stop()
        time.sleep(0.2)  # sampling interval of progress and RSS
    target.close()
    if done is None:
        raise TimeoutError(f"the JDBC sink did not apply {events} events in 600 s")
    return cost.drain_result(events, first, done, peak, used)


if __name__ == "__main__":
    if sys.argv[1:] == ["lock"]:
        lock()
        print(f"wrote {LOCK}")
    else:
        sys.exit("usage: python -m bench.jdbc lock")
