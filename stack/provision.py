"""Idempotent setup steps: artifacts, data directories, databases, migrations, connectors."""

import base64
import json
import os
import pwd
import subprocess
import uuid
from pathlib import Path

import psycopg2
import requests

from connectors import kafka_setup
from connectors.register import put, with_topic_settings
from ordersync import topology as t
from ordersync.db.roles import OWNER, apply_grants, setup_database
from ordersync.kafka.access import ADMIN
from stack.components import java, pg_bin, pg_os_user
from stack.configs import kafka_conf, kafka_data
from stack.secrets import connect_auth, database_url, db_passwords, kafka_client, kafka_passwords
from stack.topology import CONF, DATA, ROOT, RUN, SUPERUSER, VENV_BIN

CONNECTOR_DIR = ROOT / "connectors"


def make_traversable(path: Path) -> None:
    """Let the PostgreSQL OS user reach a path under root-owned folders (execute bit only)."""
    for parent in [path, *path.parents]:
        mode = parent.stat().st_mode
        if not mode & 0o001:
            parent.chmod(mode | 0o001)


def ensure_os_user(user: str) -> None:
    """Create the system user PostgreSQL runs as when it is missing."""
    try:
        pwd.getpwnam(user)
    except KeyError:
        subprocess.run(["useradd", "--system", "--no-create-home", user], check=True)


def as_pg_user(command: list[str]) -> list[str]:
    """Prefix a command so it runs as the PostgreSQL OS user when we are root."""
    user = pg_os_user()
    return ["runuser", "-u", user, "--", *command] if user else command


def init_postgres(side: str) -> bool:
    """Run initdb for one side with a password-protected superuser; skip an existing cluster."""
    data = DATA / f"{side}-db"
    if (data / "PG_VERSION").exists():
        return False
    data.mkdir(parents=True, exist_ok=True)
    user = pg_os_user()
    pwfile = RUN / f"{side}-pwfile"
    pwfile.write_text(db_passwords()[SUPERUSER] + "\n")
    if user:
        ensure_os_user(user)
        make_traversable(pg_bin())
        make_traversable(RUN)
        for path in (data, pwfile):
            os.chown(path, pwd.getpwnam(user).pw_uid, -1)
    data.chmod(0o700)
    subprocess.run(
        as_pg_user(
            [
                str(pg_bin() / "initdb"),
                "-D",
                str(data),
                "-U",
                SUPERUSER,
                "-E",
                "UTF8",
                "--locale=C",
                f"--pwfile={pwfile}",
                "--auth-host=scram-sha-256",
                "--auth-local=trust",
            ]
        ),
        check=True,
        stdout=subprocess.DEVNULL,
    )
    pwfile.unlink()
    return True


def create_databases(side: str) -> bool:
    """Create the side's database and its test twin, then the job roles, owned by the owner role.

    The only superuser sessions of the stack: everything after this runs as one of the roles.
    """
    created = False
    conn = psycopg2.connect(database_url(side, SUPERUSER, "postgres"))
    conn.autocommit = True
    try:
        with conn.cursor() as cur:
            for name in (side, f"{side}_test"):
                cur.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,))
                if not cur.fetchone():
                    cur.execute(f'CREATE DATABASE "{name}"')
                    created = True
    finally:
        conn.close()
    for name in (side, f"{side}_test"):
        superuser(side, name, lambda conn, db=name: setup_database(conn, db, db_passwords()))
    return created


def superuser(side: str, database: str, step) -> None:
    """Run one setup step as the superuser in one database (function grants are per database)."""
    conn = psycopg2.connect(database_url(side, SUPERUSER, database))
    try:
        with conn:
            step(conn)
    finally:
        conn.close()


def grant(side: str, database: str | None = None) -> None:
    """Give each role its privileges on the side's tables, as the owner."""
    conn = psycopg2.connect(database_url(side, OWNER.name, database))
    try:
        with conn:
            apply_grants(conn, side)
    finally:
        conn.close()


# written beside meta.properties by a format that created the SCRAM users
AUTHENTICATED = ".scram-users"


class KafkaDataTooOld(RuntimeError):
    """Kafka's log directory was formatted before Kafka required logins."""


def format_kafka() -> bool:
    """Format each broker's KRaft log directory once, all with one fresh cluster id.

    The format creates every principal's SCRAM credential (kafka_setup upserts them later).
    """
    formatted = [n for n in range(1, t.BROKERS + 1) if (kafka_data(n) / "meta.properties").exists()]
    old = [kafka_data(n) for n in formatted if not (kafka_data(n) / AUTHENTICATED).exists()]
    if old:
        raise KafkaDataTooOld(
            f"Kafka's data in {', '.join(map(str, old))} predates Kafka logins (SASL/SCRAM): "
            "`make clean-kafka` re-creates it (the databases keep their data; the connectors "
            "take a new snapshot, which the sinks absorb; dead letters kept in Kafka are lost)"
        )
    nodes = [n for n in range(1, t.BROKERS + 1) if n not in formatted]
    if not nodes:
        return False
    cluster_id = base64.urlsafe_b64encode(uuid.uuid4().bytes).decode().rstrip("=")
    if len(nodes) < t.BROKERS:  # a half-formatted cluster: keep the id the others have
        formatted = kafka_data(next(n for n in range(1, t.BROKERS + 1) if n not in nodes))
        meta = (formatted / "meta.properties").read_text().splitlines()
        cluster_id = next(line.split("=", 1)[1] for line in meta if line.startswith("cluster.id="))
    formats = [
        subprocess.Popen(
            java(
                "kafka.tools.StorageTool",
                "format",
                # one argument: an id may start with "-", which would read as an option
                f"--cluster-id={cluster_id}",
                "-c",
                str(CONF / kafka_conf(node)),
                *scram_users(),
                heap="256m",
            ),
            stdout=subprocess.DEVNULL,
        )
        for node in nodes
    ]
    for node, process in zip(nodes, formats, strict=True):
        if process.wait():
            # not process.args: it holds the passwords
            raise RuntimeError(f"formatting {kafka_data(node)} failed ({process.returncode})")
        (kafka_data(node) / AUTHENTICATED).touch()
    return True


def scram_users() -> list[str]:
    """StorageTool arguments creating every principal's SCRAM-SHA-512 credential."""
    return [
        f"--add-scram=SCRAM-SHA-512=[name={name},password={password}]"
        for name, password in kafka_passwords().items()
        if not name.startswith("rest:")
    ]


def setup_kafka() -> list[str]:
    """Principals, ACLs and topics as ordersync.kafka.access declares them; what changed."""
    passwords = {n: p for n, p in kafka_passwords().items() if n != ADMIN and ":" not in n}
    return kafka_setup.apply(
        kafka_client(ADMIN), passwords, t.TOPIC_PARTITIONS, t.REPLICATION_FACTOR
    )


def migrate(side: str) -> str:
    """Apply the side's Alembic migrations (a no-op at head); return what they reported."""
    result = subprocess.run(
        [str(VENV_BIN / "flask"), "--app", side, "db", "upgrade"],
        env=os.environ | {"DATABASE_URL": database_url(side, OWNER.name), "APP_ENV": "development"},
        capture_output=True,
        text=True,
    )
    if result.returncode:
        raise RuntimeError(f"migrations of {side} failed:\n{result.stderr[-3000:]}")
    return result.stderr


def create_admin(side: str, password: str) -> bool:
    """Create the side's `admin` user once; return whether it was created."""
    result = subprocess.run(
        [
            str(VENV_BIN / "flask"),
            "--app",
            side,
            "users",
            "create",
            "admin",
            "--role",
            "admin",
            "--exist-ok",
        ],
        input=password + "\n",
        env=os.environ | {"DATABASE_URL": database_url(side), "APP_ENV": "development"},
        capture_output=True,
        text=True,
    )
    if result.returncode:
        raise RuntimeError(f"creating the admin user of {side} failed:\n{result.stderr[-2000:]}")
    return "created" in result.stdout


def connector_configs() -> list[dict]:
    """Read every connectors/*.json as {"name": ..., "config": {...}}, sized for this cluster."""
    specs = [json.loads(path.read_text()) for path in sorted(CONNECTOR_DIR.glob("*.json"))]
    return [with_topic_settings(spec, t.TOPIC_PARTITIONS, t.REPLICATION_FACTOR) for spec in specs]


def register_connector(spec: dict) -> bool:
    """PUT the connector config when it differs from what Connect has; return whether it changed."""
    url = f"{connect_url()}/connectors/{spec['name']}/config"
    current = requests.get(url, timeout=10, auth=connect_auth())
    wanted = spec["config"] | {"name": spec["name"]}
    if current.status_code == 200 and current.json() | {"name": spec["name"]} == wanted:
        return False
    put(connect_url(), spec, connect_auth())  # retried while the workers rebalance (409)
    return True


def connector_state(name: str) -> tuple[str, list[str]]:
    """Return the connector's state and its tasks' states, or ("MISSING", [])."""
    response = requests.get(
        f"{connect_url()}/connectors/{name}/status", timeout=10, auth=connect_auth()
    )
    if response.status_code == 404:
        return "MISSING", []
    response.raise_for_status()
    body = response.json()
    return body["connector"]["state"], [task["state"] for task in body["tasks"]]


def connect_url() -> str:
    """The REST address of the first Connect worker that answers (any worker serves the group)."""
    for url in t.CONNECT_URLS:
        try:
            requests.get(f"{url}/", timeout=2)
            return url
        except requests.RequestException:
            continue
    return t.CONNECT_URL
