"""Marshmallow schemas shared by both order APIs; each side adds its renamed and local fields."""

import pycountry
from marshmallow import Schema, fields, validate

from ordersync.sync.fieldkinds import MAX_ITEMS, QUANTITY, SKU_LENGTH, Choice, Items, Text
from ordersync.sync.mapping import LATEST, STATUSES

CURRENCIES = sorted(currency.alpha_3 for currency in pycountry.currencies)
# a OneOf, so the OpenAPI document lists the codes as an enum
iso_currency = validate.OneOf(CURRENCIES, error="Not an ISO 4217 currency code.")


# PostgreSQL text and jsonb cannot store NUL; a Regexp so the OpenAPI document says so too
no_nul = validate.Regexp(r"^[^\x00]*$", error="Must not contain NUL characters.")


def text(max_length: int, required: bool = False) -> fields.String:
    """A string field: required ones must be non-empty, optional ones may be null."""
    if required:
        return fields.String(required=True, validate=[validate.Length(1, max_length), no_nul])
    return fields.String(
        allow_none=True, load_default=None, validate=[validate.Length(max=max_length), no_nul]
    )


class ItemSchema(Schema):
    """One order line, with the limits the sink and database read (ordersync/sync/fieldkinds.py)."""

    sku = text(SKU_LENGTH, required=True)
    quantity = fields.Integer(required=True, strict=True, validate=validate.Range(*QUANTITY))


def synced(name: str) -> fields.Field:
    """The API field of a synced field, with the limits its declaration gives (mapping.py)."""
    declared = next(f for f in LATEST.fields if f.name == name)
    kind = declared.kind
    if isinstance(kind, Text):
        return text(kind.max_length, required=not kind.nullable)
    if isinstance(kind, Choice):
        return fields.String(load_default=declared.default, validate=validate.OneOf(kind.choices))
    if isinstance(kind, Items):
        lines = validate.Length(1, MAX_ITEMS)
        return fields.List(fields.Nested(ItemSchema), required=True, validate=lines)
    raise TypeError(f"{name}: no API field for {type(kind).__name__}")


class SyncStateSchema(Schema):
    """Who authored an order's current state and how many times it changed here."""

    author = fields.String(attribute="sync_origin")
    version = fields.Integer()
    field_versions = fields.Dict(keys=fields.String(), values=fields.Integer())


# one instance for every dump: building a Schema costs more than dumping with it
SYNC_STATE = SyncStateSchema()


class OrderSchema(Schema):
    """Fields both sides expose under the same name; unknown fields are rejected."""

    id = fields.UUID(dump_only=True)
    order_number = synced("order_number")
    shipping_address = synced("shipping_address")
    items = synced("items")
    status = synced("status")
    tracking_number = synced("tracking_number")
    notes = synced("notes")
    version = fields.Integer(dump_only=True)
    created_at = fields.DateTime(dump_only=True)
    updated_at = fields.DateTime(dump_only=True)
    sync = fields.Function(
        lambda order: SYNC_STATE.dump(order),
        dump_only=True,
        metadata={"type": "object", "description": "Who authored the current state, and when"},
    )


class OrderQueryArgsSchema(Schema):
    """Filters of the order list."""

    status = fields.String(validate=validate.OneOf(STATUSES))
    order_number = fields.String(validate=[validate.Length(1, 32), no_nul])
