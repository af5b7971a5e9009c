"""The source connectors' replication slots: how much WAL each holds, and dropping a lost one.

PostgreSQL invalidates a slot that holds more WAL than `max_slot_wal_keep_size` (wal_status
"lost"); Debezium cannot stream from it and never drops it. Dropped, the slot is "not available"
to the connector, which (snapshot.mode=when_needed) creates it again and takes a new snapshot
that the sinks absorb like any other change.
"""

import logging
from dataclasses import dataclass

log = logging.getLogger("watchdog.slots")

# pg_replication_slots.wal_status, from healthy to invalidated
WAL_STATUSES = ("reserved", "extended", "unreserved", "lost")

SLOTS_SQL = """
SELECT slot_name, active, wal_status,
       pg_catalog.pg_wal_lsn_diff(pg_catalog.pg_current_wal_lsn(), restart_lsn)::bigint,
       pg_catalog.pg_wal_lsn_diff(pg_catalog.pg_current_wal_lsn(), confirmed_flush_lsn)::bigint,
       safe_wal_size
  FROM pg_catalog.pg_replication_slots
 WHERE slot_type = 'logical' AND database = pg_catalog.current_database()
"""

# only a slot nobody streams from can be dropped; checked again inside the statement
DROP_SQL = """
SELECT pg_catalog.pg_drop_replication_slot(slot_name)
  FROM pg_catalog.pg_replication_slots
 WHERE slot_name = %s AND NOT active AND wal_status = 'lost'
"""


@dataclass(frozen=True)
class Slot:
    """One logical slot as pg_replication_slots shows it (byte counts None once invalidated)."""

    name: str
    active: bool
    wal_status: str | None
    retained_bytes: int | None  # WAL kept for the slot: the current LSN minus restart_lsn
    unconfirmed_bytes: int | None  # WAL the connector has not confirmed: its lag behind the WAL
    safe_bytes: (
        int | None
    )  # WAL that may still be written before it is invalidated (None: no limit)

    @property
    def lost(self) -> bool:
        """Tell whether PostgreSQL invalidated the slot (removed WAL it needed)."""
        return self.wal_status == "lost"


def read(conn) -> dict[str, Slot]:
    """Every logical slot of the connection's database, by name."""
    with conn.cursor() as cur:
        cur.execute(SLOTS_SQL)
        return {row[0]: Slot(*row) for row in cur.fetchall()}


def drop_lost(conn, slot: Slot) -> bool:
    """Drop a slot PostgreSQL invalidated, once no walsender holds it; tell whether it went."""
    if not slot.lost:
        return False
    with conn.cursor() as cur:
        cur.execute(DROP_SQL, (slot.name,))
        dropped = cur.rowcount == 1
    if dropped:
        log.warning(
            "slot %s was invalidated (it held more WAL than max_slot_wal_keep_size) and is "
            "dropped: its connector takes a new snapshot",
            slot.name,
        )
    return dropped
