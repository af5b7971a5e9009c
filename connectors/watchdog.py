"""`python -m connectors.watchdog`: restart failed connector tasks, with backoff; watch the slots.

Kafka Connect never restarts a FAILED task by itself. A Debezium task fails for good when its
database is still starting up after a crash, so without this the pipeline would stall silently.
With a database login per side (WATCHDOG_<SIDE>_DATABASE_URL, as the connector's own role), it
also exports each connector's replication slot (WAL retained, lag, wal_status) and drops a slot
PostgreSQL invalidated, so that the connector recovers through a new snapshot (connectors/slots.py).
"""

import logging
import os
import threading
import time

import psycopg2
import requests
from prometheus_client import Counter, Gauge

from connectors import slots, watching
from connectors.connect_rest import auth
from connectors.register import CONFIG_DIR, configs
from ordersync import topology
from ordersync.environment import checked, seconds

log = logging.getLogger("watchdog")

RESTARTS = Counter("connect_watchdog_restarts_total", "Restarts requested", ["connector"])
FAILED = Gauge("connect_watchdog_failed_tasks", "Failed connectors and tasks seen", ["connector"])
SLOT = ["side", "slot"]
SLOT_PRESENT = Gauge("pg_replication_slot_present", "1 while the connector's slot exists", SLOT)
SLOT_ACTIVE = Gauge("pg_replication_slot_active", "1 while a connector streams from it", SLOT)
SLOT_RETAINED = Gauge(
    "pg_replication_slot_retained_bytes", "WAL the slot keeps from being removed", SLOT
)
SLOT_LAG = Gauge(
    "pg_replication_slot_unconfirmed_bytes",
    "WAL written since the connector's last confirmed position: its lag behind the WAL",
    SLOT,
)
SLOT_SAFE = Gauge(
    "pg_replication_slot_safe_wal_bytes",
    "WAL that may still be written before PostgreSQL invalidates the slot (-1: no limit)",
    SLOT,
)
SLOT_STATUS = Gauge(
    "pg_replication_slot_wal_status", "1 for the slot's current wal_status", [*SLOT, "status"]
)
SLOTS_DROPPED = Counter(
    "connect_watchdog_lost_slots_dropped_total", "Invalidated slots dropped (re-snapshots)", SLOT
)
CONNECT_UP = Gauge("connect_watchdog_connect_up", "1 while Connect's REST API answers the watchdog")
DATABASE_UP = Gauge(
    "connect_watchdog_database_up", "1 while the side's slots can be read", ["side"]
)

# seconds between two checks: each is a REST call Connect answers through Jetty and Jersey, and at
# 2 s that cost 0.3 % of a core between the two processes with nothing failing (measured:
# docs/performance.md); WATCHDOG_INTERVAL_SECONDS overrides it
INTERVAL = 5.0


def failed(status: dict) -> bool:
    """Tell whether a connector or any of its tasks is FAILED."""
    states = [status["connector"]["state"], *(t["state"] for t in status.get("tasks", []))]
    return "FAILED" in states


def slots_of(connectors, databases: dict) -> dict[str, set[str]]:
    """Side -> the replication slots of the connectors reading it (those with a database login)."""
    found: dict[str, set[str]] = {}
    for body in connectors:
        config = body.get("info", {}).get("config", {})
        side, slot = config.get("database.dbname"), config.get("slot.name")
        if side in databases and slot:
            found.setdefault(side, set()).add(slot)
    return found


class Watchdog:
    """Polls Connect and restarts failed connectors, backing off per connector."""

    def __init__(
        self,
        url: str,
        interval: float = INTERVAL,
        max_backoff: float = 60.0,
        credentials=None,
        databases: dict[str, str] | None = None,
    ):
        # several workers of one group, comma-separated: any of them answers for the group
        self.urls = url.split(",")
        self.url, self.interval, self.max_backoff = self.urls[0], interval, max_backoff
        self.stopping = threading.Event()
        self.http = requests.Session()
        self.http.auth = credentials
        self.next_try: dict[str, float] = {}
        self.backoff: dict[str, float] = {}
        self.databases = databases or {}  # side -> URL, as the connector's own role
        self.conns: dict[str, object] = {}
        # side -> the slots its connectors stream from, as last seen (the shipped configs'
        # until Connect answers): watched with Connect down too, when WAL piles up
        self.slots = slots_of([{"info": spec} for spec in configs(CONFIG_DIR)], self.databases)

    def check_once(self) -> None:
        """Look at every connector once and restart the failed ones that are due."""
        response = self.http.get(
            f"{self.url}/connectors", params={"expand": ["status", "info"]}, timeout=10
        )
        if response.status_code in (401, 403):
            log.error(
                "Connect at %s refused the watchdog's login (%s)", self.url, response.status_code
            )
        response.raise_for_status()
        statuses = response.json()
        CONNECT_UP.set(1)
        for name, body in statuses.items():
            status = body["status"]
            FAILED.labels(name).set(1 if failed(status) else 0)
            if not failed(status):
                self.backoff.pop(name, None)
                continue
            if time.monotonic() >= self.next_try.get(name, 0):
                self.restart(name)
        self.slots = slots_of(statuses.values(), self.databases)

    def check_slots(self) -> None:
        """Export each connector's slot and drop an invalidated one, side by side."""
        for side, names in self.slots.items():
            try:
                found = slots.read(self.connection(side))
            except psycopg2.Error as error:
                log.info("cannot read the slots of %s: %s", side, str(error).strip())
                DATABASE_UP.labels(side).set(0)
                self.conns.pop(side, None)
                continue
            DATABASE_UP.labels(side).set(1)
            for name in names:
                self.export(side, name, found.get(name))
                self.drop_if_lost(side, found.get(name))

    def drop_if_lost(self, side: str, slot) -> None:
        """Drop an invalidated slot; a refusal (no privilege, a walsender holds it) waits a turn."""
        if slot is None:
            return
        try:
            if slots.drop_lost(self.conns[side], slot):
                SLOTS_DROPPED.labels(side, slot.name).inc()
        except psycopg2.Error as error:  # the watchdog's other duties must go on
            log.warning("cannot drop slot %s of %s: %s", slot.name, side, str(error).strip())

    def connection(self, side: str):
        """The open autocommit connection to one side's database (opened on first use)."""
        conn = self.conns.get(side)
        if conn is None or conn.closed:
            conn = psycopg2.connect(self.databases[side], connect_timeout=5)
            conn.autocommit = True
            self.conns[side] = conn
        return conn

    @staticmethod
    def export(side: str, name: str, slot) -> None:
        """Set the slot's gauges; a missing slot is present 0 and keeps no other value."""
        SLOT_PRESENT.labels(side, name).set(0 if slot is None else 1)
        for status in slots.WAL_STATUSES:
            current = slot is not None and slot.wal_status == status
            SLOT_STATUS.labels(side, name, status).set(1 if current else 0)
        if slot is None:
            return
        SLOT_ACTIVE.labels(side, name).set(1 if slot.active else 0)
        SLOT_RETAINED.labels(side, name).set(slot.retained_bytes or 0)
        SLOT_LAG.labels(side, name).set(slot.unconfirmed_bytes or 0)
        SLOT_SAFE.labels(side, name).set(-1 if slot.safe_bytes is None else slot.safe_bytes)

    def restart(self, name: str) -> None:
        """Ask Connect to restart only what failed, then wait longer before the next attempt."""
        log.warning("connector %s has failed tasks; restarting them", name)
        self.http.post(
            f"{self.url}/connectors/{name}/restart",
            params={"includeTasks": "true", "onlyFailed": "true"},
            timeout=30,
        )
        RESTARTS.labels(name).inc()
        delay = min(self.backoff.get(name, self.interval) * 2, self.max_backoff)
        self.backoff[name] = delay
        self.next_try[name] = time.monotonic() + delay

    def run(self) -> None:
        """Check until stopped; Connect being down is logged and waited out."""
        while not self.stopping.is_set():
            try:
                self.check_once()
            except requests.RequestException as error:
                CONNECT_UP.set(0)
                log.info("connect unavailable at %s: %s", self.url, error)
                self.urls.append(self.urls.pop(0))  # ask the next worker next time
                self.url = self.urls[0]
            self.check_slots()  # most needed while Connect is down: WAL piles up then
            self.stopping.wait(self.interval)  # the polling period; stop() interrupts it


def main() -> None:
    """Run the watchdog until SIGTERM/SIGINT."""
    watching.configure_logging()
    interval = checked("WATCHDOG_INTERVAL_SECONDS", seconds(0.1, 3600), INTERVAL)
    url = os.environ.get("CONNECT_URL", ",".join(topology.CONNECT_URLS))
    databases = watching.database_urls("WATCHDOG")
    watchdog = Watchdog(url, interval=interval, credentials=auth(), databases=databases)
    watching.serve("WATCHDOG", topology.WATCHDOG_METRICS_PORT, watchdog)


if __name__ == "__main__":
    main()
