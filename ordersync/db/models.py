"""Columns every order table has, whichever side it lives on."""

import uuid
from datetime import datetime

from sqlalchemy import CheckConstraint, DateTime, FetchedValue, String, false, not_, select, text
from sqlalchemy.dialects.postgresql import JSONB, ExcludeConstraint
from sqlalchemy.orm import Mapped, declared_attr, mapped_column

from ordersync.sync.fieldkinds import Items
from ordersync.sync.mapping import STATUSES

# the versioning trigger writes these on every insert and update; the ORM reads them back
GENERATED = {"server_default": FetchedValue(), "server_onupdate": FetchedValue()}

STATUS_CHECK = "status IN (" + ", ".join(f"'{s}'" for s in STATUSES) + ")"
ITEMS_CHECK = "jsonb_typeof(items) = 'array' AND jsonb_array_length(items) BETWEEN 1 AND 100"
# every line as the API takes it (migration 0012 creates the function)
ITEM_LINES_CHECK = Items().sql_check("items")


class OrderMixin:
    """The synced columns named alike on both sides, plus the sync bookkeeping."""

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    order_number: Mapped[str] = mapped_column(String(32))
    shipping_address: Mapped[str] = mapped_column(String(500))
    items: Mapped[list] = mapped_column(JSONB)
    status: Mapped[str] = mapped_column(String(16), default=STATUSES[0])
    tracking_number: Mapped[str | None] = mapped_column(String(64))
    notes: Mapped[str | None] = mapped_column(String(2000))
    deleted: Mapped[bool] = mapped_column(default=False, server_default=false())
    sync_origin: Mapped[str] = mapped_column(String(16), **GENERATED)
    field_versions: Mapped[dict] = mapped_column(JSONB, **GENERATED)
    version: Mapped[int] = mapped_column(**GENERATED)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), **GENERATED)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), **GENERATED)

    __mapper_args__ = {"eager_defaults": True}

    @declared_attr.directive
    def __table_args__(cls):
        """Constraints that hold for any writer, SQL included."""
        table = cls.__tablename__
        return (
            CheckConstraint(STATUS_CHECK, name=f"{table}_status_check"),
            CheckConstraint(ITEMS_CHECK, name=f"{table}_items_check"),
            CheckConstraint(ITEM_LINES_CHECK, name=f"{table}_item_lines_check"),
            # a deleted order's number may be used again; the sink checks it at commit
            ExcludeConstraint(
                ("order_number", "="),
                name=f"{table}_order_number_live",
                using="btree",
                where=text("NOT deleted"),
                deferrable=True,
                initially="IMMEDIATE",
            ),
        )

    @classmethod
    def is_live(cls):
        """The condition of a live order."""
        # spelled as the partial indexes' WHERE clause: the planner uses a partial index only
        # when it can prove the query's condition implies the index's, and for `deleted IS
        # false` it cannot (the list then counted every row, tombstones included)
        return not_(cls.deleted)

    @classmethod
    def live(cls):
        """Select the orders that are not tombstoned, newest first."""
        return select(cls).where(cls.is_live()).order_by(cls.created_at.desc(), cls.id)
