"""The stack's processes and connectors: pausing, freezing, re-capturing, running modules."""

import os
import signal
import subprocess
import sys
from contextlib import contextmanager

import requests

from ordersync import topology
from ordersync.db.roles import DEBEZIUM
from stack.probes import wait_until
from stack.secrets import connect_auth, database_url
from stack.topology import ROOT
from tests.support.db import connect


@contextmanager
def sinks_paused():
    """Stop both sinks so writes on both sides are truly concurrent, then restart them."""
    from stack import supervisor
    from stack.cli import start_component
    from stack.components import all_components

    sinks = [c for c in all_components() if c.name.startswith("sink-")]
    for sink in sinks:
        supervisor.stop(sink.name)
    try:
        yield
    finally:
        for sink in sinks:
            start_component(sink)


def run_module(
    module: str, *args: str, timeout: float = 300, env: dict | None = None
) -> subprocess.CompletedProcess:
    """Run `python -m module args` in the project root (extra environment optional), captured."""
    return subprocess.run(
        [sys.executable, "-m", module, *args],
        cwd=ROOT,
        env=os.environ | env if env else None,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def reconcile(*args: str) -> subprocess.CompletedProcess:
    """Run the reconcile command and capture its report."""
    return run_module("connectors.reconcile", *args)


@contextmanager
def frozen(name: str):
    """SIGSTOP a supervised process (it keeps its place and its connections), then SIGCONT it."""

    from stack import supervisor

    pid = supervisor.states()[name]["pid"]
    os.kill(pid, signal.SIGSTOP)
    try:
        yield pid
    finally:
        os.kill(pid, signal.SIGCONT)


def connector_status(name: str) -> dict:
    """The connector's status document."""
    return requests.get(
        f"{topology.CONNECT_URL}/connectors/{name}/status", timeout=10, auth=connect_auth()
    ).json()


def tasks_running(name: str) -> bool:
    """Tell whether the connector and its task run."""
    status = connector_status(name)
    tasks = status.get("tasks") or []
    return status["connector"]["state"] == "RUNNING" and tasks and tasks[0]["state"] == "RUNNING"


def forget_capture(side: str) -> None:
    """Stop a connector and erase its offsets and slot, as if it had never been registered."""
    name = f"{side}-source"
    requests.put(
        f"{topology.CONNECT_URL}/connectors/{name}/stop", timeout=30, auth=connect_auth()
    ).raise_for_status()
    wait_until(lambda: connector_status(name)["connector"]["state"] == "STOPPED", 60, "stopped")
    requests.delete(
        f"{topology.CONNECT_URL}/connectors/{name}/offsets", timeout=30, auth=connect_auth()
    ).raise_for_status()
    conn = connect(side, role=DEBEZIUM.name)  # the role that owns replication
    with conn.cursor() as cur:
        slot = f"{side}_cdc"
        wait_until(lambda: not slot_active(cur, slot), 60, "slot released")
        cur.execute("SELECT pg_drop_replication_slot(%s)", (slot,))
    conn.close()


def slot_active(cur, slot: str) -> bool:
    """Tell whether a replication slot is in use."""
    cur.execute("SELECT active FROM pg_replication_slots WHERE slot_name = %s", (slot,))
    return cur.fetchone()["active"]


@contextmanager
def recaptured(side: str):
    """Erase a connector's offsets and slot, run the body, resume: Debezium snapshots again."""
    name = f"{side}-source"
    forget_capture(side)
    try:
        yield
    finally:
        url = f"{topology.CONNECT_URL}/connectors/{name}/resume"
        requests.put(url, timeout=30, auth=connect_auth()).raise_for_status()
    wait_until(lambda: tasks_running(name), 60, f"{name} running again")


def users_cli(side: str, *args: str, password: str | None = None):
    """Run `flask --app SIDE users ...` against the running stack's database."""
    return subprocess.run(
        [sys.executable, "-m", "flask", "--app", side, "users", *args],
        input=f"{password}\n" if password else None,
        text=True,
        check=True,
        capture_output=True,
        env=os.environ | {"DATABASE_URL": database_url(side), "APP_ENV": "development"},
        cwd=ROOT,
    )
