"""Secrets of the dev stack: made once, kept in .stack/ (git-ignored), never in code."""

import json
import os
import secrets

import psycopg2

from ordersync import topology as t
from ordersync.db.roles import APP, READER, ROLES, SINK
from ordersync.kafka.access import ADMIN, USERS
from ordersync.kafka.client import client_settings, credentials_env
from ordersync.sync.mapping import SIDES
from stack.topology import STATE, STATE_CA, SUPERUSER

SECRETS_FILE = STATE / "secrets.json"
ADMIN_PASSWORD_FILE = STATE / "admin-password"
DB_PASSWORDS_FILE = STATE / "db-passwords.json"
APP_KEYS = ("SECRET_KEY", "JWT_SECRET_KEY")


def write_private(path, text: str) -> None:
    """Write a file only its owner can read (an existing file loses wider modes too)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.fchmod(fd, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(text)


def app_secrets(side: str) -> dict[str, str]:
    """Return one side's own SECRET_KEY and JWT_SECRET_KEY, generating them the first time."""
    stored = json.loads(SECRETS_FILE.read_text()) if SECRETS_FILE.exists() else {}
    # a file from before the keys were per side holds flat shared keys: drop them
    stored = {key: value for key, value in stored.items() if isinstance(value, dict)}
    if side not in stored:
        stored[side] = {name: secrets.token_urlsafe(48) for name in APP_KEYS}
        write_private(SECRETS_FILE, json.dumps(stored))
    return stored[side]


def admin_password() -> tuple[str, bool]:
    """Return the admin password (SYNC_ADMIN_PASSWORD, stored or generated) and whether new."""
    if os.environ.get("SYNC_ADMIN_PASSWORD"):
        return os.environ["SYNC_ADMIN_PASSWORD"], False
    if ADMIN_PASSWORD_FILE.exists():
        return ADMIN_PASSWORD_FILE.read_text().strip(), False
    password = secrets.token_urlsafe(16)
    write_private(ADMIN_PASSWORD_FILE, password + "\n")
    return password, True


def db_passwords() -> dict[str, str]:
    """Passwords of the superuser and of each job's role, generated once into a 0600 file."""
    names = [SUPERUSER, *(role.name for role in ROLES)]
    stored = json.loads(DB_PASSWORDS_FILE.read_text()) if DB_PASSWORDS_FILE.exists() else {}
    missing = [name for name in names if name not in stored]
    if missing:
        stored |= {name: secrets.token_urlsafe(24) for name in missing}
        write_private(DB_PASSWORDS_FILE, json.dumps(stored))
    return stored


def database_url(side: str, role: str = APP.name, database: str | None = None) -> str:
    """Return the URL of one side's database as one of the job roles (the app's by default)."""
    return t.database_url(side, role, db_passwords()[role], database)


def connect(side: str, role: str = APP.name, database: str | None = None, **options):
    """Open an autocommit connection to one side's database as a role (psycopg2 options pass)."""
    conn = psycopg2.connect(database_url(side, role, database), **options)
    conn.autocommit = True
    return conn


def client_environment() -> dict[str, str]:
    """What an operator's command needs to reach the dev stack: `stack exec` and `run` pass it."""
    user, password = connect_auth()
    env = {"CONNECT_URL": t.CONNECT_URL, "CONNECT_USER": user, "CONNECT_PASSWORD": password}
    env |= kafka_env("dlq")  # `make dlq`
    for side in SIDES:
        env[f"{side.upper()}_DATABASE_URL"] = database_url(side, READER.name)
        env[f"{side.upper()}_REPAIR_DATABASE_URL"] = database_url(side, SINK.name)
    return env


KAFKA_PASSWORDS_FILE = STATE / "kafka-passwords.json"
# users of Connect's REST API (HTTP basic): the launcher and tools, and the task watchdog
CONNECT_REST_USERS = ("launcher", "watchdog")


def kafka_passwords() -> dict[str, str]:
    """SCRAM passwords of every Kafka principal, generated once into a 0600 file.

    A name deleted from the file gets a new password at the next `make up` (how to rotate one).
    """
    stored = json.loads(KAFKA_PASSWORDS_FILE.read_text()) if KAFKA_PASSWORDS_FILE.exists() else {}
    names = [*USERS, *(f"rest:{user}" for user in CONNECT_REST_USERS)]
    missing = [name for name in names if name not in stored]
    if missing:
        stored |= {name: new_kafka_password() for name in missing}
        write_private(KAFKA_PASSWORDS_FILE, json.dumps(stored))
    return stored


def new_kafka_password() -> str:
    """A fresh password (URL-safe: it goes into JAAS strings and properties files as is)."""
    return secrets.token_urlsafe(24)


def store_kafka_password(name: str, password: str) -> None:
    """Replace one principal's password in the file."""
    write_private(KAFKA_PASSWORDS_FILE, json.dumps(kafka_passwords() | {name: password}))


def kafka_env(user: str) -> dict[str, str]:
    """The environment a process of the stack reaches Kafka with, as `user`."""
    env = credentials_env(user, kafka_passwords()[user], STATE_CA if t.CLUSTER else None)
    return {"KAFKA_BOOTSTRAP_SERVERS": t.BOOTSTRAP_SERVERS} | env


def kafka_client(user: str = ADMIN) -> dict:
    """librdkafka settings of an in-process client of the stack (the launcher's, a tool's)."""
    return client_settings(kafka_env(user))


def connect_auth(user: str = "launcher") -> tuple[str, str]:
    """HTTP basic credentials of Connect's REST API."""
    return user, kafka_passwords()[f"rest:{user}"]
