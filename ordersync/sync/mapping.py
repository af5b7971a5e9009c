"""The one declaration of how a Store order and a Warehouse order correspond, per schema version.

Every other piece (models, trigger, sink, reconcile, event schemas) reads these tables instead of
repeating field names. `VERSIONS` lists the schema steps in order; each side's database keeps
the field set of the step it has reached (table sync_schema), and the sink and reconcile read
that, so the two sides may stand at different versions during a rollout (docs/schema-changes.md).
"""

import re
from dataclasses import dataclass, field
from functools import cache, cached_property

from ordersync.sync.fieldkinds import Choice, Flag, Items, Kind, Text, kind_from_json

STORE = "store"
WAREHOUSE = "warehouse"
SIDES = (STORE, WAREHOUSE)

TABLES = {STORE: "store_order", WAREHOUSE: "warehouse_order"}

# who authored the row's current state: this side for local writes, the other for sink writes
SYNC_COLUMN = "sync_origin"
# per-field logical versions of the synced fields, {"status": 3, ...}
CLOCK_COLUMN = "field_versions"
# a synced soft-delete flag; once true it stays true on both sides
TOMBSTONE = "deleted"

STATUSES = ("pending", "processing", "shipped", "delivered", "cancelled")


# names the database keeps for fields and columns: plain lower-case identifiers, so that they can
# be written into SQL as they are
NAME = re.compile(r"[a-z][a-z0-9_]{0,62}")


def identifier(value, what: str) -> str:
    """Return value if it is a plain lower-case SQL identifier; refuse it otherwise."""
    if not isinstance(value, str) or not NAME.fullmatch(value):
        raise ValueError(f"{what}: expected a lower-case identifier, got {str(value)[:64]!r}")
    return value


@dataclass(frozen=True)
class SyncedField:
    """A field both sides hold; `columns` names it per side where the names differ.

    `default` is the value of rows written before the field existed (null when nullable).
    """

    name: str
    owner: str
    kind: Kind
    columns: dict[str, str] = field(default_factory=dict)
    default: object = None

    def column(self, side: str) -> str:
        """Return this field's column name on one side."""
        return self.columns.get(side, self.name)

    def to_json(self) -> dict:
        """The declaration as a side's database keeps it."""
        return {
            "name": self.name,
            "owner": self.owner,
            "columns": {side: self.column(side) for side in SIDES},
            "default": self.default,
            **self.kind.to_json(),
        }

    @classmethod
    def from_json(cls, spec) -> "SyncedField":
        """Read a declaration back, refusing anything malformed."""
        if not isinstance(spec, dict):
            raise ValueError("field: expected an object")
        name = identifier(spec.get("name"), "field.name")
        if spec.get("owner") not in SIDES:
            raise ValueError(f"{name}.owner: not one of {', '.join(SIDES)}")
        columns = spec.get("columns")
        if not isinstance(columns, dict) or set(columns) != set(SIDES):
            raise ValueError(f"{name}.columns: expected a column for each side")
        columns = {side: identifier(columns[side], f"{name}.columns.{side}") for side in SIDES}
        renamed = {side: column for side, column in columns.items() if column != name}
        kind = kind_from_json(spec)
        default = spec.get("default")
        if default is not None:
            kind.check(default)
        return cls(name, spec["owner"], kind, renamed, default)


@dataclass(frozen=True)
class SchemaVersion:
    """One step of the order model: fields that start being synced, fields that stop."""

    number: int
    add: tuple[SyncedField, ...] = ()
    retire: tuple[str, ...] = ()


@dataclass(frozen=True)
class FieldSet:
    """The synced fields at one schema version, and what every reader derives from them."""

    version: int
    fields: tuple[SyncedField, ...]

    def __post_init__(self):
        names = [f.name for f in self.fields]
        if len(set(names)) != len(names):
            raise ValueError(f"schema {self.version}: a field is declared twice")
        for side in SIDES:
            taken = [f.column(side) for f in self.fields]
            if len(set(taken)) != len(taken) or set(taken) & RESERVED[side]:
                raise ValueError(f"schema {self.version}: a {side} column is taken twice")
        if TOMBSTONE not in names:
            raise ValueError(f"schema {self.version}: {TOMBSTONE} is always synced")

    @cached_property
    def names(self) -> tuple[str, ...]:
        """The canonical names, in declaration order."""
        return tuple(f.name for f in self.fields)

    @cached_property
    def owners(self) -> dict[str, str]:
        """The owner side of each field (it keeps its value in a tie)."""
        return {f.name: f.owner for f in self.fields}

    @cached_property
    def defaults(self) -> dict:
        """The value each field has in a row written before it existed."""
        return {f.name: f.default for f in self.fields}

    def columns(self, side: str) -> dict[str, str]:
        """Map canonical names to one side's column names."""
        return {f.name: f.column(side) for f in self.fields}

    def after(self, step: SchemaVersion) -> "FieldSet":
        """The field set once a schema step is applied."""
        if step.number <= self.version:
            raise ValueError(f"schema {step.number} does not follow {self.version}")
        unknown = set(step.retire) - set(self.names)
        if unknown or TOMBSTONE in step.retire:
            raise ValueError(f"schema {step.number} retires fields it cannot: {sorted(unknown)}")
        for f in step.add:
            if not f.kind.nullable and f.default is None:
                # the other side's events lack it until that side migrates: a row they insert
                # needs a value
                raise ValueError(f"schema {step.number}: {f.name} needs a default or null")
        kept = tuple(f for f in self.fields if f.name not in step.retire)
        return FieldSet(step.number, kept + step.add)

    def shared(self, other: "FieldSet") -> "FieldSet":
        """The fields both field sets sync (mid-rollout, the ones the two sides can compare)."""
        kept = tuple(f for f in self.fields if f.name in other.names)
        return FieldSet(min(self.version, other.version), kept)

    def only(self, names) -> "FieldSet":
        """The field set restricted to some fields (the tombstone always stays)."""
        unknown = set(names) - set(self.names)
        if unknown:
            raise ValueError(f"not synced on both sides: {', '.join(sorted(unknown))}")
        kept = tuple(f for f in self.fields if f.name in names or f.name == TOMBSTONE)
        return FieldSet(self.version, kept)

    def to_json(self) -> list[dict]:
        """The field set as a side's database keeps it (sync_schema.fields)."""
        return [f.to_json() for f in self.fields]

    @classmethod
    def from_json(cls, version, fields) -> "FieldSet":
        """Read a field set back from a side's database, refusing anything malformed."""
        if type(version) is not int or version < 1:
            raise ValueError("version: expected a positive integer")
        if not isinstance(fields, list) or not 1 <= len(fields) <= MAX_FIELDS:
            raise ValueError(f"fields: expected 1 to {MAX_FIELDS} declarations")
        return cls(version, tuple(SyncedField.from_json(f) for f in fields))


# more synced fields than any order needs; bounds what a clock or a declaration may hold
MAX_FIELDS = 64
# a field is written at most once per local write: no honest clock gets near this
MAX_VERSION = 2**31 - 1

STATUS_KIND = Choice(STATUSES)

# schema version 1: the fields as the first release synced them
VERSIONS = (
    SchemaVersion(
        1,
        add=(
            SyncedField("order_number", STORE, Text(32)),
            SyncedField("customer_name", STORE, Text(200), columns={WAREHOUSE: "recipient_name"}),
            SyncedField("shipping_address", STORE, Text(500)),
            SyncedField("items", STORE, Items()),
            SyncedField("status", WAREHOUSE, STATUS_KIND, default=STATUSES[0]),
            SyncedField("tracking_number", WAREHOUSE, Text(64, nullable=True)),
            SyncedField("notes", STORE, Text(2000, nullable=True)),
            # the owner never decides a tombstone: deletion wins over any version (see merge)
            SyncedField(TOMBSTONE, STORE, Flag(), default=False),
        ),
    ),
)


def field_set(version: int | None = None) -> FieldSet:
    """The declared field set at a schema version (the latest when None)."""
    first, *steps = VERSIONS
    current = FieldSet(first.number, first.add)
    for step in steps:
        if version is not None and step.number > version:
            break
        current = current.after(step)
    if version is not None and current.version != version:
        raise ValueError(f"no schema version {version} is declared")
    return current


LOCAL_FIELDS = {
    STORE: ("customer_email", "total_amount", "currency"),
    WAREHOUSE: ("weight_grams", "bin_location"),
}
# columns of every order table that are never a synced field
BOOKKEEPING = ("id", SYNC_COLUMN, CLOCK_COLUMN, "version", "created_at", "updated_at")
RESERVED = {side: set(BOOKKEEPING) | set(LOCAL_FIELDS[side]) for side in SIDES}

LATEST = field_set()
SYNCED_FIELDS = LATEST.fields
FIELD_NAMES = LATEST.names


def other(side: str) -> str:
    """Return the opposite side."""
    return WAREHOUSE if side == STORE else STORE


@cache
def columns(side: str) -> dict[str, str]:
    """Map the latest declaration's synced field names to one side's column names."""
    return LATEST.columns(side)


def to_canonical(side: str, row: dict) -> dict:
    """Pick the synced fields out of one side's row, under their canonical names."""
    return {name: row[column] for name, column in columns(side).items()}


def from_canonical(side: str, values: dict) -> dict:
    """Rename canonical synced fields to one side's column names."""
    return {columns(side)[name]: value for name, value in values.items()}


def topic(side: str) -> str:
    """Return the Debezium topic carrying one side's order changes."""
    return f"{side}.public.{TABLES[side]}"


def dead_letter_topic(side: str) -> str:
    """Return the dead-letter topic for events from one side that could not be applied."""
    return f"{topic(side)}.dlq"


def replay_topic(side: str) -> str:
    """Return the topic dead letters of one side's events are replayed into (the sink reads it).

    Not the change topic itself: only that side's Debezium may write there.
    """
    return f"{topic(side)}.replay"
