"""The Warehouse's order table."""

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from ordersync.db.models import OrderMixin
from ordersync.web.extensions import db


class WarehouseOrder(OrderMixin, db.Model):
    """An order as the warehouse sees it."""

    __tablename__ = "warehouse_order"

    recipient_name: Mapped[str] = mapped_column(String(200))
    weight_grams: Mapped[int | None]
    bin_location: Mapped[str | None] = mapped_column(String(32))
