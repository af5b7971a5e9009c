"""The stack remembers its shape: what `up` started is what every later command talks to.

`make up-cluster` starts three brokers; `make status`, `dlq`, `reconcile`, `restart`, `tail` and
`topics` then reach those, with no variables set. Loaded before anything reads the ports (from
stack/__init__.py), so it imports nothing of ours.
"""

import json
import os
from pathlib import Path

# what makes one stack differ from another on the same checkout
VARIABLES = ("STACK_BROKERS", "SINK_REPLICAS", "STACK_TOPIC_PARTITIONS", "STACK_JVM_HEAP")


def shape_file() -> Path:
    """Where this state folder keeps the shape its last `up` started."""
    state = os.environ.get("STACK_DIR") or Path(__file__).resolve().parent.parent / ".stack"
    return Path(state) / "shape.json"


def remembered() -> dict[str, str]:
    """The shape of the last `up`, or nothing (a fresh checkout, an unreadable file)."""
    try:
        stored = json.loads(shape_file().read_text())
    except (OSError, ValueError):
        return {}
    if not isinstance(stored, dict):
        return {}
    return {k: str(v) for k, v in stored.items() if k in VARIABLES and isinstance(v, str | int)}


def effective(values: dict[str, str]) -> dict[str, str]:
    """Brokers, sink replicas and partitions a set of variables means (the defaults filled in)."""
    brokers = values.get("STACK_BROKERS") or "1"
    return {
        "brokers": brokers,
        "sink replicas": values.get("SINK_REPLICAS") or "1",
        "partitions": values.get("STACK_TOPIC_PARTITIONS") or ("3" if brokers == "3" else "1"),
    }


def recall() -> None:
    """Put the remembered shape into the environment where the caller did not choose one."""
    for name, value in remembered().items():
        os.environ.setdefault(name, value)


def remember() -> None:
    """Record the shape this process runs with: the brokers always, the rest where chosen.

    Only what was chosen: a partition count left to its default follows the brokers' count.
    """
    shape = {name: os.environ[name] for name in VARIABLES if os.environ.get(name)}
    shape["STACK_BROKERS"] = effective(os.environ)["brokers"]
    path = shape_file()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(shape))
