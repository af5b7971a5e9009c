"""The Store's order table."""

from decimal import Decimal

from sqlalchemy import Numeric, String
from sqlalchemy.orm import Mapped, mapped_column

from ordersync.db.models import OrderMixin
from ordersync.web.extensions import db


class StoreOrder(OrderMixin, db.Model):
    """An order as the shop sees it."""

    __tablename__ = "store_order"

    customer_name: Mapped[str] = mapped_column(String(200))
    customer_email: Mapped[str | None] = mapped_column(String(254))
    total_amount: Mapped[Decimal | None] = mapped_column(Numeric(12, 2))
    currency: Mapped[str | None] = mapped_column(String(3))
