"""Where the dev stack keeps its files and what it names its processes.

The ports and addresses every process reads are in ordersync.topology, a leaf the apps and
connectors import too.
"""

import os
from pathlib import Path

from ordersync.topology import CLUSTER

ROOT = Path(__file__).resolve().parent.parent
STATE = Path(os.environ.get("STACK_DIR", ROOT / ".stack"))
LIB = STATE / "lib"
DATA = STATE / "data"
LOGS = STATE / "logs"
CONF = STATE / "conf"
RUN = STATE / "run"
# the private CA of the cluster stack's TLS listeners (stack/tls.py writes it)
STATE_CA = str(STATE / "tls" / "ca.pem")
VENV_BIN = Path(os.environ.get("VIRTUAL_ENV", ROOT / ".venv")) / "bin"

# initdb's superuser: only the launcher's provisioning logs in as it (see ordersync/db/roles.py)
SUPERUSER = "postgres"
JVM_HEAP = os.environ.get("STACK_JVM_HEAP", "384m" if CLUSTER else "512m")


def broker_name(node: int) -> str:
    """The supervised name of broker `node` (1-based): `kafka` alone, `kafka-N` in a cluster."""
    return f"kafka-{node}" if CLUSTER else "kafka"


def connect_name(worker: int) -> str:
    """The supervised name of Connect worker `worker` (1-based)."""
    return f"connect-{worker}" if CLUSTER else "connect"


def sink_name(source: str, target: str, replica: int = 0) -> str:
    """The supervised name of one sink replica (replica 0 has no suffix)."""
    return f"sink-{source}-to-{target}" + (f"-{replica}" if replica else "")
