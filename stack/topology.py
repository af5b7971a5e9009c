"""Where every component of the dev stack lives: ports, paths and versions, declared once."""

import os
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
STATE = Path(os.environ.get("STACK_DIR", ROOT / ".stack"))
LIB = STATE / "lib"
DATA = STATE / "data"
LOGS = STATE / "logs"
CONF = STATE / "conf"
RUN = STATE / "run"
VENV_BIN = Path(os.environ.get("VIRTUAL_ENV", ROOT / ".venv")) / "bin"

HOST = "127.0.0.1"
PG_USER = "postgres"
PG_PASSWORD = os.environ.get("PG_PASSWORD", "postgres")
DATABASES = {"store": 5433, "warehouse": 5434}
KAFKA_PORT = 9092
KAFKA_CONTROLLER_PORT = 9093
CONNECT_PORT = 8083
APP_PORTS = {"store": 5001, "warehouse": 5002}
SINK_METRICS_PORTS = {"store": 9101, "warehouse": 9102}
WATCHDOG_METRICS_PORT = 9103
JVM_HEAP = os.environ.get("STACK_JVM_HEAP", "512m")

BOOTSTRAP_SERVERS = f"{HOST}:{KAFKA_PORT}"
CONNECT_URL = f"http://{HOST}:{CONNECT_PORT}"


def database_url(side: str) -> str:
    """Return the SQLAlchemy URL of one side's database."""
    return f"postgresql://{PG_USER}:{PG_PASSWORD}@{HOST}:{DATABASES[side]}/{side}"


def app_url(side: str) -> str:
    """Return the base URL of one side's REST API."""
    return f"http://{HOST}:{APP_PORTS[side]}"
