"""Generate, from the mapping, the JSON Schemas of the change topics' message values.

    python -m ordersync.sync.eventschema --write    # rewrite docs/schemas/v2/ (without: check it)

The envelope and the bookkeeping columns are fixed; each synced field's column is optional and
follows its kind, because a side mid-rollout lacks the fields it has not added yet or has
retired, and carries fields the other side does not know yet (docs/events.md).
"""

import argparse
import json
import sys
from pathlib import Path

from ordersync.sync.fieldkinds import (
    LINE_KEYS,
    MAX_ITEMS,
    QUANTITY,
    SKU_LENGTH,
    Choice,
    Flag,
    Integer,
    Items,
    Kind,
    Text,
)
from ordersync.sync.mapping import (
    BOOKKEEPING,
    CLOCK_COLUMN,
    LATEST,
    LOCAL_FIELDS,
    MAX_FIELDS,
    MAX_VERSION,
    NAME,
    SIDES,
    SYNC_COLUMN,
    TABLES,
    TOMBSTONE,
    FieldSet,
    SyncedField,
    other,
    topic,
)

VERSION = 2
BASE_URL = "https://cdc-order-sync.example/schemas"
OUTPUT = Path(__file__).resolve().parents[2] / "docs" / "schemas" / f"v{VERSION}"

NAME_PATTERN = f"^{NAME.pattern}$"
# PostgreSQL text holds no NUL, and the kinds refuse it
NO_NUL = "^[^\\u0000]*$"
JSON_TEXT = "application/json"

# what the declaration does not say about a field, for the reader
NOTES = {
    "order_number": "Unique among live orders.",
    TOMBSTONE: "The tombstone: true once the order is deleted on either side (a deletion beats "
    "any version); never goes back to false.",
}

BOOKKEEPING_RULES = {
    "id": {
        "type": "string",
        "format": "uuid",
        "description": "The order id, the same on both sides; also the message key.",
    },
    SYNC_COLUMN: {
        "enum": list(SIDES),
        "description": "INTERNAL: which side authored the row's current state.",
    },
    CLOCK_COLUMN: {
        "type": "string",
        "contentMediaType": JSON_TEXT,
        "contentSchema": {
            "type": "object",
            "maxProperties": MAX_FIELDS,
            "propertyNames": {"pattern": NAME_PATTERN},
            "additionalProperties": {
                "type": "integer",
                "minimum": 0,
                "maximum": MAX_VERSION,
            },
        },
        "description": (
            "INTERNAL: a JSON-encoded object of per-field logical versions (Lamport counters), "
            "keyed by field name (not column name). It may name fields this side does not sync "
            "(other schema versions): ignore those. A field without an entry is at version 0."
        ),
    },
    "version": {
        "type": "integer",
        "minimum": 1,
        "description": (
            "This side's row version: +1 on every write to the row on this side (API, SQL or "
            "sink). Monotonic per order within this topic."
        ),
    },
    "created_at": {
        "type": "string",
        "format": "date-time",
        "description": "When the row was created on this side (UTC).",
    },
    "updated_at": {
        "type": "string",
        "format": "date-time",
        "description": "When the row was last written on this side (UTC).",
    },
}

# the columns only one side has: the declaration names them, their rules are here
LOCAL_RULES = {
    "customer_email": {
        "type": ["string", "null"],
        "maxLength": 254,
        "description": "Store only: never synced.",
    },
    "total_amount": {
        "type": ["string", "null"],
        "pattern": "^-?[0-9]+(\\.[0-9]{1,2})?$",
        "description": "Store only: a decimal as a string (decimal.handling.mode=string).",
    },
    "currency": {
        "type": ["string", "null"],
        "maxLength": 3,
        "description": "Store only: ISO 4217 code.",
    },
    "weight_grams": {"type": ["integer", "null"], "description": "Warehouse only: never synced."},
    "bin_location": {
        "type": ["string", "null"],
        "maxLength": 32,
        "description": "Warehouse only: never synced.",
    },
}

SOURCE_REQUIRED = ["connector", "name", "ts_ms", "snapshot", "db", "schema", "table", "lsn", "txId"]
SNAPSHOTS = [
    "true",
    "first",
    "first_in_data_collection",
    "last_in_data_collection",
    "last",
    "false",
    "incremental",
]


def kind_schema(kind: Kind) -> dict:
    """The JSON Schema of a column of one kind, as Debezium renders it."""
    match kind:
        case Text():
            rule = {"type": "string", "maxLength": kind.max_length, "pattern": NO_NUL}
            if not kind.nullable:
                rule["minLength"] = 1
        case Choice():
            return {"enum": [*kind.choices, *([None] if kind.nullable else [])]}
        case Flag():
            rule = {"type": "boolean"}
        case Integer():
            rule = {"type": "integer", "minimum": kind.minimum, "maximum": kind.maximum}
        case Items():
            # a nullable jsonb column may hold JSON null as well as SQL null: both read as null
            content = ["array", "null"] if kind.nullable else "array"
            lines = {"type": content, "minItems": 1, "maxItems": MAX_ITEMS, "items": LINE}
            rule = {"type": "string", "contentMediaType": JSON_TEXT, "contentSchema": lines}
        case _:
            raise TypeError(f"no event schema for {kind!r}")
    if kind.nullable:
        rule["type"] = [rule["type"], "null"]
    return rule


# one order line, as ordersync/sync/fieldkinds.py `check_line` takes it
LINE = {
    "type": "object",
    "required": sorted(LINE_KEYS),
    "additionalProperties": False,
    "properties": {
        "sku": {"type": "string", "minLength": 1, "maxLength": SKU_LENGTH, "pattern": NO_NUL},
        "quantity": {"type": "integer", "minimum": QUANTITY[0], "maximum": QUANTITY[1]},
    },
}


def describe(f: SyncedField, side: str) -> str:
    """What a synced field's column is, in a sentence or two."""
    text = "Synced" + (f" as field {f.name}" if f.column(side) != f.name else "")
    text += f" (owner: {f.owner})"
    if f.column(other(side)) != f.column(side):
        text += f"; {f.column(other(side))} on the {other(side)}"
    if isinstance(f.kind, Items):
        text += (
            f". A JSON-encoded array of 1 to {MAX_ITEMS} order lines ({{sku, quantity}}); "
            "Debezium renders jsonb as text"
        )
    return " ".join(filter(None, [text + ".", NOTES.get(f.name)]))


def row_schema(side: str, fields: FieldSet) -> dict:
    """A row of one side's table: bookkeeping and local columns, then the synced fields'."""
    synced = {
        f.column(side): kind_schema(f.kind) | {"description": describe(f, side)}
        for f in fields.fields
    }
    bookkeeping = {column: BOOKKEEPING_RULES[column] for column in BOOKKEEPING}
    local = {column: LOCAL_RULES[column] for column in LOCAL_FIELDS[side]}
    return {
        "type": "object",
        "description": (
            "A row as Debezium renders it. A synced field's column may be missing (its side "
            "has not added it, or has retired it): leave that field alone. Columns of fields "
            "this schema does not list (another version of the order model) may appear too."
        ),
        # every version syncs the tombstone (ordersync.sync.mapping)
        "required": sorted([*bookkeeping, *local, fields.columns(side)[TOMBSTONE]]),
        "properties": {**bookkeeping, **synced, **local},
        "propertyNames": {"pattern": NAME_PATTERN},
        "additionalProperties": {
            "description": "A column of a synced field of another version of the order model."
        },
    }


def source_schema(side: str) -> dict:
    """Debezium's `source` block of one side's events."""
    nullable = {"type": ["integer", "null"]}
    return {
        "type": "object",
        "required": SOURCE_REQUIRED,
        "properties": {
            "version": {"type": "string"},
            "connector": {"const": "postgresql"},
            "name": {"const": side},
            "ts_ms": {
                "type": "integer",
                "description": "Commit time of the change in the source database (ms since "
                "the epoch).",
            },
            "ts_us": {"type": "integer"},
            "ts_ns": {"type": "integer"},
            "snapshot": {"enum": SNAPSHOTS},
            "db": {"const": side},
            "sequence": {"type": ["string", "null"]},
            "schema": {"const": "public"},
            "table": {"const": TABLES[side]},
            "txId": nullable,
            "lsn": nullable,
            "xmin": nullable,
            "origin": {"type": ["string", "null"]},
            "origin_lsn": nullable,
        },
    }


def image(row: bool | None, description: str | None = None) -> dict:
    """A `before` or `after`: a row, null, or either."""
    rule = {"oneOf": [{"type": "null"}, {"$ref": "#/$defs/row"}]}
    if row is not None:
        rule = {"$ref": "#/$defs/row"} if row else {"type": "null"}
    return rule | ({"description": description} if description else {})


def when(ops: list[str], before: bool, after: bool) -> dict:
    """Which images an operation carries."""
    op = {"const": ops[0]} if len(ops) == 1 else {"enum": ops}
    return {
        "if": {"properties": {"op": op}},
        "then": {"properties": {"before": image(before), "after": image(after)}},
    }


def value_schema(side: str, fields: FieldSet = LATEST) -> dict:
    """The JSON Schema of a message value on one side's change topic."""
    name = f"{topic(side)}.value.json"
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": f"{BASE_URL}/v{VERSION}/{name}",
        "title": f"Value of a message on {topic(side)}",
        "description": (
            "A Debezium change event as the connector emits it here: JSON, schemas disabled. "
            "Generated from ordersync.sync.mapping (python -m ordersync.sync.eventschema --write). "
            "See docs/events.md."
        ),
        "type": "object",
        "required": ["op", "before", "after", "source", "ts_ms"],
        "properties": {
            "op": {
                "enum": ["c", "u", "d", "r"],
                "description": "c create, u update (soft deletes too), d purge (a hard delete "
                "by the owner), r snapshot read.",
            },
            "before": image(
                None, "The whole row before the change (REPLICA IDENTITY FULL); null for c and r."
            ),
            "after": image(None, "The whole row after the change; null for d."),
            "source": {"$ref": "#/$defs/source"},
            "transaction": {"type": "null"},
            "ts_ms": {
                "type": "integer",
                "description": "When the connector processed the change (ms since the epoch).",
            },
            "ts_us": {"type": "integer"},
            "ts_ns": {"type": "integer"},
        },
        "additionalProperties": False,
        "allOf": [when(["c", "r"], False, True), when(["u"], True, True), when(["d"], True, False)],
        "$defs": {"row": row_schema(side, fields), "source": source_schema(side)},
    }


def rendered() -> dict[Path, str]:
    """Each side's value schema as its file holds it."""
    return {
        OUTPUT / f"{topic(side)}.value.json": json.dumps(value_schema(side), indent=2) + "\n"
        for side in SIDES
    }


def main(argv: list[str] | None = None) -> int:
    """Write the schemas with --write; otherwise name each file that differs and return 1."""
    parser = argparse.ArgumentParser(
        prog="python -m ordersync.sync.eventschema", description=__doc__
    )
    parser.add_argument("--write", action="store_true", help=f"rewrite {OUTPUT}")
    args = parser.parse_args(argv)
    files = rendered()
    stale = [p for p, text in files.items() if not p.exists() or p.read_text() != text]
    for path in stale:
        if args.write:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(files[path])
        print(f"{'wrote' if args.write else 'stale'}: {path}")
    return 1 if stale and not args.write else 0


if __name__ == "__main__":
    sys.exit(main())
