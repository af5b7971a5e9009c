"""The native launcher on the running stack: idempotent `up`, truthful `status`, loud failures."""

import os
import re
import subprocess
import sys

from ordersync import topology
from ordersync.service.settings import ServiceSettings
from stack import components, provision
from stack.cli import connector_running
from stack.components import all_components
from stack.probes import wait_until
from stack.topology import ROOT
from tests.support.processes import run_module


def launcher(*args: str) -> subprocess.CompletedProcess:
    """Run `python -m stack ...` and capture its output."""
    return run_module("stack", *args)


def test_second_up_changes_nothing_and_says_so(stack):
    result = launcher("up")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "nothing changed" in result.stdout
    assert "starting" not in result.stdout


def test_status_lists_every_component_running_and_ready(stack):
    result = launcher("status")
    assert result.returncode == 0, result.stdout
    for component in all_components():
        line = next(
            row for row in result.stdout.splitlines() if row.startswith(component.name + " ")
        )
        assert " RUNNING " in line and " yes " in line, line
    assert "connector store-source" in result.stdout
    assert "connector warehouse-source" in result.stdout


def test_a_component_not_ready_in_time_fails_with_its_log_tail(stack):
    result = subprocess.run(
        [sys.executable, "-m", "stack", "restart", "connect"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        env=os.environ | {"STACK_STARTUP_TIMEOUT": "0.5"},
    )
    try:
        assert result.returncode == 1, result.stdout
        assert "FAILED: connect not ready after" in result.stdout
        # the tail of connect.log follows: its lines start with a [timestamp]
        assert re.search(r"^\[\d{4}-\d\d-\d\d ", result.stdout, re.M), result.stdout
    finally:
        assert launcher("restart", "connect").returncode == 0
        for spec in provision.connector_configs():
            wait_until(lambda name=spec["name"]: connector_running(name), 120, spec["name"])


def test_a_bad_startup_timeout_is_refused_by_name():
    result = run_module("stack", "status", env={"STACK_STARTUP_TIMEOUT": "soon"}, timeout=60)
    assert result.returncode == 1
    assert "STACK_STARTUP_TIMEOUT='soon'" in result.stderr
    assert "Traceback" not in result.stderr


def test_each_app_s_sync_page_reads_every_replica_of_the_sink_writing_into_it(monkeypatch):
    monkeypatch.setattr(topology, "SINK_REPLICAS", 2)
    app = components.app("store")
    port = topology.SINK_METRICS_PORTS["store"]
    assert app.env["SYNC_SINK_URL"] == f"http://127.0.0.1:{port},http://127.0.0.1:{port + 10}"
    settings = ServiceSettings("store", app.env)
    assert settings.SYNC_SINK_URLS == (f"http://127.0.0.1:{port}", f"http://127.0.0.1:{port + 10}")
