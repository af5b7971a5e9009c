"""`python -m connectors.watchdog`: restart failed connector tasks, with backoff.

Kafka Connect never restarts a FAILED task by itself. A Debezium task fails for good when its
database is still starting up after a crash, so without this the pipeline would stall silently.
"""

import logging
import os
import signal
import threading
import time

import requests
from prometheus_client import Counter, Gauge, start_http_server

from connectors.connect_rest import auth
from ordersync import topology
from ordersync.environment import checked, seconds, whole

log = logging.getLogger("watchdog")

RESTARTS = Counter("connect_watchdog_restarts_total", "Restarts requested", ["connector"])
FAILED = Gauge("connect_watchdog_failed_tasks", "Failed connectors and tasks seen", ["connector"])

# seconds between two checks: each is a REST call Connect answers through Jetty and Jersey, and at
# 2 s that cost 0.3 % of a core between the two processes with nothing failing (bench/README.md,
# eighth round); WATCHDOG_INTERVAL_SECONDS overrides it
INTERVAL = 5.0


def failed(status: dict) -> bool:
    """Tell whether a connector or any of its tasks is FAILED."""
    states = [status["connector"]["state"], *(t["state"] for t in status.get("tasks", []))]
    return "FAILED" in states


class Watchdog:
    """Polls Connect and restarts failed connectors, backing off per connector."""

    def __init__(
        self, url: str, interval: float = INTERVAL, max_backoff: float = 60.0, credentials=None
    ):
        # several workers of one group, comma-separated: any of them answers for the group
        self.urls = url.split(",")
        self.url, self.interval, self.max_backoff = self.urls[0], interval, max_backoff
        self.stopping = threading.Event()
        self.http = requests.Session()
        self.http.auth = credentials
        self.next_try: dict[str, float] = {}
        self.backoff: dict[str, float] = {}

    def check_once(self) -> None:
        """Look at every connector once and restart the failed ones that are due."""
        response = self.http.get(f"{self.url}/connectors?expand=status", timeout=10)
        if response.status_code in (401, 403):
            log.error(
                "Connect at %s refused the watchdog's login (%s)", self.url, response.status_code
            )
        response.raise_for_status()
        statuses = response.json()
        for name, body in statuses.items():
            status = body["status"]
            FAILED.labels(name).set(1 if failed(status) else 0)
            if not failed(status):
                self.backoff.pop(name, None)
                continue
            if time.monotonic() >= self.next_try.get(name, 0):
                self.restart(name)

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
                log.info("connect unavailable at %s: %s", self.url, error)
                self.urls.append(self.urls.pop(0))  # ask the next worker next time
                self.url = self.urls[0]
            self.stopping.wait(self.interval)  # the polling period; stop() interrupts it


def main() -> None:
    """Run the watchdog until SIGTERM/SIGINT."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    interval = checked("WATCHDOG_INTERVAL_SECONDS", seconds(0.1, 3600), INTERVAL)
    url = os.environ.get("CONNECT_URL", ",".join(topology.CONNECT_URLS))
    watchdog = Watchdog(url, interval=interval, credentials=auth())
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: watchdog.stopping.set())
    port = checked("WATCHDOG_METRICS_PORT", whole(1, 65535), topology.WATCHDOG_METRICS_PORT)
    start_http_server(port, addr=os.environ.get("WATCHDOG_METRICS_HOST", "127.0.0.1"))
    watchdog.run()


if __name__ == "__main__":
    main()
