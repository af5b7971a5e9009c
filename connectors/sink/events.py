"""Turn Debezium change-event JSON into side-neutral states (pure parsing, no I/O)."""

import json
from dataclasses import dataclass, replace

from connectors.sink.merge import State, tombstoned
from ordersync.mapping import CLOCK_COLUMN, SYNC_COLUMN, to_canonical


class PoisonEvent(ValueError):
    """An event that can never be applied; it goes to the dead-letter topic."""


@dataclass(frozen=True)
class ChangeEvent:
    """One row change from the source side: its state and the source commit time."""

    op: str
    state: State
    source_ts_ms: int | None


def decode_json(value):
    """Debezium renders json/jsonb columns as strings; parse them back."""
    return json.loads(value) if isinstance(value, str) else value


def row_state(side: str, row: dict) -> State:
    """Build a State from a source-side row as Debezium serialised it."""
    try:
        values = to_canonical(side, row)
        values["items"] = decode_json(values["items"])
        clock = decode_json(row[CLOCK_COLUMN]) or {}
        return State(id=str(row["id"]), values=values, clock=clock, author=row[SYNC_COLUMN])
    except (KeyError, TypeError, ValueError) as error:
        raise PoisonEvent(f"row lacks synced columns: {error!r}") from error


def parse(side: str, value: bytes | None) -> ChangeEvent | None:
    """Parse a message value from one side's topic; None for a Kafka tombstone (nothing to do)."""
    if value is None:
        return None
    try:
        envelope = json.loads(value)
        op = envelope["op"]
    except (ValueError, KeyError, TypeError) as error:
        raise PoisonEvent(f"not a Debezium change event: {error!r}") from error
    source_ts = (envelope.get("source") or {}).get("ts_ms")
    if op in ("c", "u", "r"):
        return ChangeEvent(op, row_state(side, envelope["after"] or {}), source_ts)
    if op == "d":
        # a hard delete (a purge) on the source: the row turns into a tombstone here
        before = row_state(side, envelope["before"] or {})
        return ChangeEvent(op, replace(tombstoned(before), author=side), source_ts)
    raise PoisonEvent(f"unsupported operation {op!r}")
