"""The published event schemas in docs/schemas."""

import json
from pathlib import Path

from ordersync.mapping import topic

SCHEMAS = Path(__file__).resolve().parents[2] / "docs" / "schemas"


def schema(name: str) -> dict:
    """Load one published schema."""
    return json.loads((SCHEMAS / name).read_text())


def value_schema(side: str) -> dict:
    """The value schema of one side's change topic."""
    return schema(f"{topic(side)}.value.json")
