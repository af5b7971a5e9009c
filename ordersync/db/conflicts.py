"""The conflict log: what the sinks decided, how long it is kept, and how it is read and purged.

The sink writes it (connectors/sink/target.py) and purges what is past retention (`purge`); the
API, the admin and `flask conflicts` read it (ordersync/db/conflict_table.py). Free of
SQLAlchemy: the sink imports it.
"""

from ordersync.db.roles import CONFLICT_TABLE
from ordersync.sync.decisions import RULES, WINNERS  # noqa: F401 - the log's readers get them here

# how long a decision is kept unless CONFLICT_RETENTION_DAYS says otherwise
RETENTION_DAYS = 90
# the bounds of CONFLICT_RETENTION_DAYS
RETENTION_BOUNDS = (1, 36_500)

# a DB-API statement: the sink runs it on psycopg2, the CLI on SQLAlchemy's raw connection
PURGE_SQL = (
    f"DELETE FROM {CONFLICT_TABLE} WHERE decided_at < pg_catalog.now() - "
    "pg_catalog.make_interval(days => %s)"
)


def purge(cur, days: int) -> int:
    """Delete the conflicts decided more than `days` ago; return how many."""
    cur.execute(PURGE_SQL, (days,))
    return cur.rowcount
