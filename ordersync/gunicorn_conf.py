"""gunicorn hooks: a clean Prometheus multiprocess directory, and dead workers' gauges dropped."""

import os
import shutil
from pathlib import Path

from prometheus_client import multiprocess


def on_starting(server):
    """Start from an empty metrics directory (files of an earlier run would be counted)."""
    directory = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    if directory:
        shutil.rmtree(directory, ignore_errors=True)
        Path(directory).mkdir(parents=True)


def child_exit(server, worker):
    """Forget the live gauges of a worker that exited."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        multiprocess.mark_process_dead(worker.pid)
