"""Where the development stack's components listen: every process's default, declared once.

A leaf: it imports nothing of ours, so the apps, the connectors and the launcher can all read
it (layers point down; see README's Layout).
"""

import os

HOST = "127.0.0.1"
# shifts every port, so a second stack (another checkout) can run beside the first
PORT_OFFSET = int(os.environ.get("STACK_PORT_OFFSET", 0))
DATABASES = {"store": 5433 + PORT_OFFSET, "warehouse": 5434 + PORT_OFFSET}
KAFKA_PORT = 9092 + PORT_OFFSET
KAFKA_CONTROLLER_PORT = 9093 + PORT_OFFSET
CONNECT_PORT = 8083 + PORT_OFFSET
APP_PORTS = {"store": 5001 + PORT_OFFSET, "warehouse": 5002 + PORT_OFFSET}
SINK_METRICS_PORTS = {"store": 9101 + PORT_OFFSET, "warehouse": 9102 + PORT_OFFSET}
WATCHDOG_METRICS_PORT = 9103 + PORT_OFFSET

BOOTSTRAP_SERVERS = f"{HOST}:{KAFKA_PORT}"
CONNECT_URL = f"http://{HOST}:{CONNECT_PORT}"


def database_url(side: str, user: str, password: str, database: str | None = None) -> str:
    """Return the URL of one side's database (or another database on its server) as a user."""
    return f"postgresql://{user}:{password}@{HOST}:{DATABASES[side]}/{database or side}"


def app_url(side: str) -> str:
    """Return the base URL of one side's REST API."""
    return f"http://{HOST}:{APP_PORTS[side]}"
