"""The conflict log as SQLAlchemy reads it (the API, the admin, the CLI); the sink writes SQL."""

from sqlalchemy import BigInteger, Column, DateTime, Integer, MetaData, String, Table, Uuid, select
from sqlalchemy.dialects.postgresql import JSONB

from ordersync.db.roles import CONFLICT_TABLE

conflicts = Table(
    CONFLICT_TABLE,
    MetaData(),
    Column("id", BigInteger, primary_key=True),
    Column("order_id", Uuid, nullable=False),
    Column("field", String(63), nullable=False),
    Column("local_value", JSONB(none_as_null=False)),
    Column("local_version", BigInteger, nullable=False),
    Column("incoming_value", JSONB(none_as_null=False)),
    Column("incoming_version", BigInteger, nullable=False),
    Column("winner", String(8), nullable=False),
    Column("rule", String(16), nullable=False),
    Column("source_topic", String(249), nullable=False),
    Column("source_partition", Integer, nullable=False),
    Column("source_offset", BigInteger, nullable=False),
    Column("decided_at", DateTime(timezone=True), nullable=False),
)

NEWEST_FIRST = (conflicts.c.decided_at.desc(), conflicts.c.id.desc())


def newest_first(**filters):
    """Select conflicts, newest first, with equality filters on any column."""
    query = select(conflicts).order_by(*NEWEST_FIRST)
    for name, value in filters.items():
        query = query.where(conflicts.c[name] == value)
    return query
