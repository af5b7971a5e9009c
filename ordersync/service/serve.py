"""Serve an app factory under granian: the one place the apps' HTTP server is configured.

`python -m ordersync.service.serve store:create_app --bind 127.0.0.1:5001`. The native stack, the
container image, docker compose and the benchmark's floor app all start their servers this way,
so every one of them answers requests alike.
"""

import argparse
import importlib
import os
import shutil
from pathlib import Path

from granian import Granian
from granian.constants import HTTPModes, Interfaces

from ordersync.web.observability import LOG_FORMAT

# processes: the GIL lets one thread at a time run Python in each
WORKERS = 2
# threads per worker running the app, so requests waiting on PostgreSQL overlap
THREADS = 4
# seconds a worker gets to finish after SIGTERM before it is killed: without a bound, a worker
# that missed the signal kept the server (and its port) up forever; under supervisord's 30 s
KILL_AFTER = 10
# granian's own lines (start, stop, a worker respawned) as JSON, like the apps' request log
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "json": {
            "()": "pythonjsonlogger.orjson.OrjsonFormatter",
            "fmt": LOG_FORMAT,
        }
    },
    "handlers": {"stderr": {"class": "logging.StreamHandler", "formatter": "json"}},
    "loggers": {"_granian": {"handlers": ["stderr"], "level": "INFO", "propagate": False}},
}


# read once by the app factory; granian then copies this process's environment into every request's
# WSGI environ, where an error reporter or a debug page that dumps the environ would show them
SECRETS = ("DATABASE_URL", "SECRET_KEY", "JWT_SECRET_KEY", "KAFKA_PASSWORD")


def load_without_secrets(target: str):
    """Build the app from `module:factory` in a worker, then drop the secrets it has read."""
    module, _, factory = target.partition(":")
    app = getattr(importlib.import_module(module), factory)()
    for name in SECRETS:
        os.environ.pop(name, None)
    return app


def address(value: str) -> tuple[str, int]:
    """HOST:PORT (an IPv6 host in brackets), the port a number from 1 to 65535."""
    host, _, port = value.rpartition(":")
    if not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise argparse.ArgumentTypeError(f"{value!r} is not HOST:PORT")
    return host.removeprefix("[").removesuffix("]"), int(port)


def fresh_metrics_directory() -> None:
    """Empty the Prometheus multiprocess directory: files of an earlier run would be counted."""
    directory = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    if directory:
        shutil.rmtree(directory, ignore_errors=True)
        Path(directory).mkdir(parents=True)


def server(target: str, host: str, port: int) -> Granian:
    """A granian server of the WSGI app that `target` (module:factory) builds in each worker."""
    return Granian(
        target,
        address=host,
        port=port,
        interface=Interfaces.WSGI,
        factory=True,
        workers=WORKERS,
        blocking_threads=THREADS,
        # one Rust I/O thread per worker is plenty for one worker's four app threads
        runtime_threads=1,
        http=HTTPModes.http1,
        websockets=False,
        respawn_failed_workers=True,
        workers_kill_timeout=KILL_AFTER,
        log_dictconfig=LOGGING,
    )


def main(argv: list[str] | None = None) -> None:
    """Serve the target at the given address until stopped."""
    parser = argparse.ArgumentParser(prog="python -m ordersync.service.serve", description=__doc__)
    parser.add_argument("target", help="module:factory, e.g. store:create_app")
    parser.add_argument("--bind", type=address, required=True, metavar="HOST:PORT")
    args = parser.parse_args(argv)
    fresh_metrics_directory()
    server(args.target, *args.bind).serve(target_loader=load_without_secrets)


if __name__ == "__main__":
    main()
