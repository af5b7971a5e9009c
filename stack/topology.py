"""Where the dev stack keeps its files, beside the ports every process reads from ordersync."""

import os
from pathlib import Path

# the ports and addresses, declared once in the leaf module the apps and connectors read too
from ordersync.topology import *  # noqa: F403

ROOT = Path(__file__).resolve().parent.parent
STATE = Path(os.environ.get("STACK_DIR", ROOT / ".stack"))
LIB = STATE / "lib"
DATA = STATE / "data"
LOGS = STATE / "logs"
CONF = STATE / "conf"
RUN = STATE / "run"
VENV_BIN = Path(os.environ.get("VIRTUAL_ENV", ROOT / ".venv")) / "bin"

# initdb's superuser: only the launcher's provisioning logs in as it (see ordersync/roles.py)
SUPERUSER = "postgres"
JVM_HEAP = os.environ.get("STACK_JVM_HEAP", "512m")
