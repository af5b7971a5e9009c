"""The one declaration of how a Store order and a Warehouse order correspond.

Every other piece (models, trigger, sink, reconcile) reads these tables instead of
repeating field names.
"""

from dataclasses import dataclass, field
from functools import cache

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


@dataclass(frozen=True)
class SyncedField:
    """A field both sides hold; `columns` names it per side where the names differ."""

    name: str
    owner: str
    columns: dict[str, str] = field(default_factory=dict)

    def column(self, side: str) -> str:
        """Return this field's column name on one side."""
        return self.columns.get(side, self.name)


SYNCED_FIELDS = (
    SyncedField("order_number", owner=STORE),
    SyncedField("customer_name", owner=STORE, columns={WAREHOUSE: "recipient_name"}),
    SyncedField("shipping_address", owner=STORE),
    SyncedField("items", owner=STORE),
    SyncedField("status", owner=WAREHOUSE),
    SyncedField("tracking_number", owner=WAREHOUSE),
    SyncedField("notes", owner=STORE),
    # the owner never decides a tombstone: deletion wins over any version (see merge)
    SyncedField(TOMBSTONE, owner=STORE),
)

LOCAL_FIELDS = {
    STORE: ("customer_email", "total_amount", "currency"),
    WAREHOUSE: ("weight_grams", "bin_location"),
}

FIELD_NAMES = tuple(f.name for f in SYNCED_FIELDS)


def other(side: str) -> str:
    """Return the opposite side."""
    return WAREHOUSE if side == STORE else STORE


@cache
def columns(side: str) -> dict[str, str]:
    """Map canonical synced field names to one side's column names."""
    return {f.name: f.column(side) for f in SYNCED_FIELDS}


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
