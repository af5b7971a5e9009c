"""Turn Debezium change-event JSON into side-neutral states (pure parsing, no I/O).

Every message is hostile until proven otherwise: the envelope, the row and the clock are checked
in full here, so that nothing malformed reaches the merge or the database. Anything that fails
raises PoisonEvent, and the sink dead-letters the message with that error.
"""

import functools
import json
import re
import uuid
from dataclasses import dataclass, replace
from typing import NamedTuple

import orjson

from connectors.sink.merge import UNKNOWN, State, tombstoned
from ordersync.sync.fieldkinds import BadValue, Items
from ordersync.sync.mapping import (
    CLOCK_COLUMN,
    LATEST,
    MAX_FIELDS,
    MAX_VERSION,
    NAME,
    SIDES,
    SYNC_COLUMN,
    FieldSet,
)

OPS = {"c", "u", "r", "d"}


class PoisonEvent(ValueError):
    """An event that can never be applied; it goes to the dead-letter topic."""


@dataclass(frozen=True)
class ChangeEvent:
    """One row change from the source side: its state and the source commit time.

    `unsynced` names fields the source versions but the target does not sync; `absent` names
    fields the target syncs but the source row lacks (mid-rollout, one side has them already).
    """

    op: str
    state: State
    source_ts_ms: int | None
    unsynced: tuple[str, ...] = ()
    absent: tuple[str, ...] = ()
    snapshot: int | None = None  # a snapshot read ("r"): the LSN its snapshot was taken at


class Checks(NamedTuple):
    """What the parser needs of the field set a target syncs, built once per field set."""

    entries: tuple  # (name, source column, check, is JSON) of each field
    names: frozenset
    columns: dict  # name -> (source column, is JSON): how a before image is read


def checks(fields: FieldSet, source: str) -> Checks:
    """The parser's checks of the fields a target syncs, for events from one side."""
    entries = tuple(
        (f.name, f.column(source), f.kind.check, isinstance(f.kind, Items)) for f in fields.fields
    )
    columns = {name: (column, is_json) for name, column, _, is_json in entries}
    return Checks(entries, frozenset(fields.names), columns)


@functools.cache
def latest_checks(source: str) -> Checks:
    """The checks of the latest declared field set, for events from one side."""
    return checks(LATEST, source)


# orjson reads an integer beyond 64 bits as a float. Of the fields it can reach, only the items
# keep such a number (the checks refuse a float anywhere else), so items are read exactly: the
# standard parser reads them where a long digit run shows. Anything orjson refuses stays refused.
LONG_DIGITS = re.compile(r"\d{19}")
LONG_DIGITS_BYTES = re.compile(rb"\d{19}")


def refuse_constant(name: str):
    """The standard parser's hook for NaN and Infinity, which are not JSON."""
    raise ValueError(f"{name} is not JSON")


def finite(text: str) -> float:
    """The standard parser's hook for floats: one too large for a double is refused."""
    number = float(text)
    if number in (float("inf"), float("-inf")):
        raise ValueError("number too large for a double")
    return number


def exact_loads(value: str | bytes):
    """Parse strict JSON as orjson does, but with integers of any size kept exact."""
    long_digits = LONG_DIGITS_BYTES if isinstance(value, bytes) else LONG_DIGITS
    if long_digits.search(value) is None:
        return orjson.loads(value)
    text = value.decode() if isinstance(value, bytes) else value
    return json.loads(text, parse_constant=refuse_constant, parse_float=finite)


def decode_json(value):
    """Debezium renders json/jsonb columns as strings; parse them back."""
    return exact_loads(value) if isinstance(value, str) else value


def check_clock(clock, synced: dict, known: frozenset = frozenset()) -> dict:
    """Return the clock entries of the synced fields; refuse a malformed clock.

    Entries of other well-formed names are left out, not refused: the source may sync a field
    this side does not (yet, or any more) have. Their values are left out with them.
    """
    if not isinstance(clock, dict):
        raise PoisonEvent(f"{CLOCK_COLUMN}: expected an object")
    if len(clock) > MAX_FIELDS:
        raise PoisonEvent(f"{CLOCK_COLUMN}: more than {MAX_FIELDS} fields")
    others = False
    for name, version in clock.items():
        if name not in synced:
            others = True
            if name not in known and not NAME.fullmatch(name):  # a known name needs no pattern
                raise PoisonEvent(f"{CLOCK_COLUMN}: not a field name: {name[:64]!r}")
        if type(version) is not int or not 0 <= version <= MAX_VERSION:
            raise PoisonEvent(f"{CLOCK_COLUMN}.{name}: expected an integer in [0, {MAX_VERSION}]")
    if not others:  # the common case: every entry is a field with its value here
        return clock
    return {name: clock[name] for name in synced if name in clock}


CANONICAL_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


def check_id(value) -> str:
    """Return the canonical text of a UUID order id."""
    if not isinstance(value, str):
        raise PoisonEvent("id: expected a UUID string")
    if CANONICAL_UUID.fullmatch(value):  # what Debezium sends: no need to build a UUID
        return value
    try:
        return str(uuid.UUID(value))
    except ValueError as error:
        raise PoisonEvent("id: expected a UUID string") from error


MISSING = object()  # a column the row does not have (None is a value: SQL null)


def row_state(row, fields: Checks, base=None) -> tuple[State, tuple, tuple]:
    """Build a State from a source-side row as Debezium serialised it, checking every field.

    `fields` comes from `checks`: the fields the target syncs. One the row lacks is left alone
    (the source does not have its column, yet or any more); it is never read as null. Also
    returns the fields the clock versions but the target does not sync, and those the row lacks.
    `base` is the row the change was written over (`Before`), None when unknown.
    """
    if not isinstance(row, dict):
        raise PoisonEvent("row: expected an object")
    absent = ()
    try:
        clock = decode_json(row[CLOCK_COLUMN])
        author, order_id = row[SYNC_COLUMN], row["id"]
        values = {}
        for name, column, check, is_json in fields.entries:
            value = row.get(column, MISSING)
            if value is MISSING:
                absent += (name,)
                continue
            if is_json:
                value = decode_json(value)
            check(value)
            values[name] = value
    except KeyError as error:
        raise PoisonEvent(f"row lacks column {error.args[0]!r}") from error
    except BadValue as error:
        raise PoisonEvent(f"{name}: {error}") from None
    except ValueError as error:
        raise PoisonEvent(f"row holds invalid JSON: {error}") from error
    if author not in SIDES:
        raise PoisonEvent(f"{SYNC_COLUMN}: not one of {', '.join(SIDES)}")
    synced_clock = check_clock(clock, values, fields.names)
    # the common case costs one comparison: every clock entry is a field the target syncs
    unsynced = () if len(synced_clock) == len(clock) else unsynced_names(clock, fields.names)
    state = State(check_id(order_id), values, synced_clock, author, base)
    return state, unsynced, absent


class Before:
    """An update's before image, read only when the merge asks (an edit that may conflict).

    Unchecked, and only ever compared with our own row: it decides whether a conflict is
    recorded, never what is written.
    """

    __slots__ = ("row", "columns", "clock")

    def __init__(self, row: dict, columns: dict):
        self.row, self.columns, self.clock = row, columns, None

    def version(self, name: str) -> int | None:
        """The field's version before the change (None when unknown)."""
        if self.clock is None:
            try:
                clock = decode_json(self.row.get(CLOCK_COLUMN))
            except ValueError:
                clock = None
            self.clock = clock if isinstance(clock, dict) else {}
        version = self.clock.get(name)
        return version if type(version) is int else None

    def value(self, name: str):
        """The field's value before the change (UNKNOWN when the row lacks its column)."""
        column, is_json = self.columns.get(name, (None, False))
        value = self.row.get(column, UNKNOWN)
        if is_json and isinstance(value, str):
            try:
                return decode_json(value)
            except ValueError:
                return UNKNOWN
        return value


def unsynced_names(clock: dict, synced: frozenset) -> tuple[str, ...]:
    """The clock's fields that the target does not sync, in a stable order."""
    return tuple(sorted(name for name in clock if name not in synced))


def source_time(envelope: dict) -> int | None:
    """Return the source commit time in ms when the envelope carries a sane one."""
    source = envelope.get("source")
    ts_ms = source.get("ts_ms") if isinstance(source, dict) else None
    return ts_ms if type(ts_ms) is int and ts_ms >= 0 else None


def snapshot_lsn(envelope: dict) -> int:
    """The LSN a snapshot read was taken at (every read of one snapshot shares it); 0 if unsaid."""
    source = envelope.get("source")
    lsn = source.get("lsn") if isinstance(source, dict) else None
    return lsn if type(lsn) is int and 0 <= lsn < 2**63 else 0


def items_as_text(row) -> bool:
    """Tell whether a row carries its items as JSON text, as Debezium sends them."""
    return not isinstance(row, dict) or isinstance(row.get("items"), str)


def parse(side: str, value: bytes | None, fields: Checks | None = None) -> ChangeEvent | None:
    """Parse a message value from one side's topic; None for a Kafka tombstone (nothing to do).

    `fields` is `checks(...)` of the field set the target syncs (the latest declared one when
    None).
    """
    fields = fields or latest_checks(side)
    if value is None:
        return None
    envelope = loads_envelope(value)
    op = envelope.get("op")
    if not isinstance(op, str) or op not in OPS:
        raise PoisonEvent(f"unsupported operation {str(op)[:32]!r}")
    # a hard delete (a purge) on the source: its row before turns into a tombstone here
    image = "before" if op == "d" else "after"
    row = envelope.get(image)
    if not items_as_text(row):  # not Debezium's form: read the whole message exactly
        row = loads_envelope(value, exact=True).get(image)
    before = envelope.get("before") if op == "u" else None
    # the row an update was written over: the merge reads it when the update may be a conflict
    base = Before(before, fields.columns) if isinstance(before, dict) else None
    state, unsynced, absent = row_state(row, fields, base)
    if op == "d":
        state = replace(tombstoned(state), author=side)
    snapshot = snapshot_lsn(envelope) if op == "r" else None
    return ChangeEvent(op, state, source_time(envelope), unsynced, absent, snapshot)


def loads_envelope(value: bytes, exact: bool = False) -> dict:
    """Parse a message value into its envelope object, or refuse it."""
    try:
        envelope = exact_loads(value) if exact else orjson.loads(value)
    except (ValueError, RecursionError) as error:
        raise PoisonEvent(f"not JSON: {str(error)[:200]}") from None
    if not isinstance(envelope, dict):
        raise PoisonEvent("not a Debezium change event: expected an object")
    return envelope
