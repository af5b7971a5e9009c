"""Idempotent setup steps: artifacts, data directories, databases, migrations, connectors."""

import base64
import hashlib
import json
import os
import pwd
import subprocess
import uuid
from pathlib import Path

import psycopg2
import requests

from stack import topology as t
from stack.components import pg_bin, pg_os_user

MAVEN_DIR = t.ROOT / "connectors" / "maven"
MAVEN_TARGETS = {
    "kafka.pom.xml": t.LIB / "kafka",
    "debezium.pom.xml": t.LIB / "plugins" / "debezium-connector-postgres",
}
CONNECTOR_DIR = t.ROOT / "connectors"


def resolve_maven() -> bool:
    """Copy the pinned Kafka and Debezium jars into .stack/lib; skip poms already resolved."""
    changed = False
    for pom, target in MAVEN_TARGETS.items():
        digest = hashlib.sha256((MAVEN_DIR / pom).read_bytes()).hexdigest()
        marker = target / ".resolved"
        if marker.exists() and marker.read_text() == digest:
            continue
        subprocess.run(
            [
                "mvn",
                "-q",
                "-B",
                "-f",
                str(MAVEN_DIR / pom),
                "dependency:copy-dependencies",
                f"-DoutputDirectory={target}",
                "-DincludeScope=runtime",
            ],
            check=True,
        )
        marker.write_text(digest)
        changed = True
    return changed


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
    data = t.DATA / f"{side}-db"
    if (data / "PG_VERSION").exists():
        return False
    data.mkdir(parents=True, exist_ok=True)
    user = pg_os_user()
    pwfile = t.RUN / f"{side}-pwfile"
    pwfile.write_text(t.PG_PASSWORD + "\n")
    if user:
        ensure_os_user(user)
        make_traversable(pg_bin())
        make_traversable(t.RUN)
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
                t.PG_USER,
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


def create_database(side: str) -> bool:
    """Create the side's database on its server when it does not exist yet."""
    admin = t.database_url(side).rsplit("/", 1)[0] + "/postgres"
    conn = psycopg2.connect(admin)
    conn.autocommit = True
    try:
        with conn.cursor() as cur:
            cur.execute("SELECT 1 FROM pg_database WHERE datname = %s", (side,))
            if cur.fetchone():
                return False
            cur.execute(f'CREATE DATABASE "{side}"')
            return True
    finally:
        conn.close()


def format_kafka() -> bool:
    """Format the KRaft log directory once with a fresh cluster id."""
    if (t.DATA / "kafka" / "meta.properties").exists():
        return False
    cluster_id = base64.urlsafe_b64encode(uuid.uuid4().bytes).decode().rstrip("=")
    subprocess.run(
        [
            "java",
            "-Xmx256m",
            "-cp",
            str(t.LIB / "kafka" / "*"),
            f"-Dlog4j2.configurationFile={t.CONF / 'log4j2.properties'}",
            "kafka.tools.StorageTool",
            "format",
            "-t",
            cluster_id,
            "-c",
            str(t.CONF / "kafka.properties"),
        ],
        check=True,
        stdout=subprocess.DEVNULL,
    )
    return True


def migrate(side: str) -> None:
    """Apply the side's Alembic migrations (a no-op at head)."""
    result = subprocess.run(
        [str(t.VENV_BIN / "flask"), "--app", side, "db", "upgrade"],
        env=os.environ | {"DATABASE_URL": t.database_url(side), "APP_ENV": "development"},
        capture_output=True,
        text=True,
    )
    if result.returncode:
        raise RuntimeError(f"migrations of {side} failed:\n{result.stderr[-3000:]}")


def create_admin(side: str, password: str) -> bool:
    """Create the side's `admin` user once; return whether it was created."""
    result = subprocess.run(
        [
            str(t.VENV_BIN / "flask"),
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
        env=os.environ | {"DATABASE_URL": t.database_url(side), "APP_ENV": "development"},
        capture_output=True,
        text=True,
    )
    if result.returncode:
        raise RuntimeError(f"creating the admin user of {side} failed:\n{result.stderr[-2000:]}")
    return "created" in result.stdout


def connector_configs() -> list[dict]:
    """Read every connectors/*.json as {"name": ..., "config": {...}}."""
    return [json.loads(path.read_text()) for path in sorted(CONNECTOR_DIR.glob("*.json"))]


def register_connector(spec: dict) -> bool:
    """PUT the connector config when it differs from what Connect has; return whether it changed."""
    url = f"{t.CONNECT_URL}/connectors/{spec['name']}/config"
    current = requests.get(url, timeout=10)
    wanted = spec["config"] | {"name": spec["name"]}
    if current.status_code == 200 and current.json() | {"name": spec["name"]} == wanted:
        return False
    requests.put(url, json=spec["config"], timeout=30).raise_for_status()
    return True


def connector_state(name: str) -> tuple[str, list[str]]:
    """Return the connector's state and its tasks' states, or ("MISSING", [])."""
    response = requests.get(f"{t.CONNECT_URL}/connectors/{name}/status", timeout=10)
    if response.status_code == 404:
        return "MISSING", []
    response.raise_for_status()
    body = response.json()
    return body["connector"]["state"], [task["state"] for task in body["tasks"]]
