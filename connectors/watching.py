"""What the long-running watchers (the Connect watchdog, the pipeline monitor) share."""

import logging
import os
import signal

from prometheus_client import start_http_server

from ordersync.environment import checked, whole
from ordersync.sync.mapping import SIDES


def configure_logging() -> None:
    """Log lines with time, level and logger name, as the other processes do."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")


def database_variable(prefix: str, side: str) -> str:
    """The environment variable holding a watcher's URL of one side's database."""
    return f"{prefix}_{side.upper()}_DATABASE_URL"


def database_urls(prefix: str) -> dict[str, str]:
    """Side -> URL from <PREFIX>_<SIDE>_DATABASE_URL, for the sides that have one."""
    names = {side: database_variable(prefix, side) for side in SIDES}
    return {side: os.environ[name] for side, name in names.items() if os.environ.get(name)}


def serve(prefix: str, default_port: int, watcher) -> None:
    """Serve metrics on <PREFIX>_METRICS_HOST/PORT; run the watcher until a signal stops it."""
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: watcher.stopping.set())
    port = checked(f"{prefix}_METRICS_PORT", whole(1, 65535), default_port)
    start_http_server(port, addr=os.environ.get(f"{prefix}_METRICS_HOST", "127.0.0.1"))
    watcher.run()
