"""The apps' server (ordersync.service.serve): serves a factory, clean metrics at start, stops."""

import contextlib
import os
import signal
import socket
import subprocess
import sys

import pytest
import requests
from flask import Flask, request

from ordersync.service.serve import KILL_AFTER, SECRETS, address
from stack import topology
from stack.probes import wait_until
from tests.support.processes import run_module


def create_app() -> Flask:
    """A tiny app for the server to build in each worker."""
    app = Flask(__name__)
    app.get("/where")(lambda: {"remote": request.remote_addr})
    return app


def secret_keeping_app() -> Flask:
    """A tiny app that reads a secret as it is built and shows what a request can see."""
    app = create_app()
    app.config["SECRET_KEY"] = os.environ["SECRET_KEY"]

    @app.get("/environ")
    def environ():
        names = [*SECRETS, "PATH"]
        return {
            "built_with": app.config["SECRET_KEY"],
            "request": sorted(name for name in names if name in request.environ),
            "process": sorted(name for name in names if name in os.environ),
        }

    return app


def deaf_app() -> Flask:
    """A tiny app whose worker never hears SIGTERM (blocked in every thread it will start)."""
    signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGTERM})
    return create_app()


def free_port() -> int:
    """A port nobody listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def answers(url: str) -> bool:
    """Whether the URL answers 200 yet."""
    try:
        return requests.get(url, timeout=2).status_code == 200
    except requests.ConnectionError:
        return False


@contextlib.contextmanager
def serving(factory: str, env: dict, path: str):
    """Serve one of this module's factories until the block ends; yield its URL and an outcome.

    The outcome dict gets the server's log and exit code once SIGTERM has stopped it.
    """
    port, outcome = free_port(), {}
    command = [sys.executable, "-m", "ordersync.service.serve", f"{__name__}:{factory}"]
    with subprocess.Popen(
        [*command, f"--bind=127.0.0.1:{port}"],
        cwd=topology.ROOT,
        env={"PATH": "/usr/bin:/bin"} | env,
        stderr=subprocess.PIPE,
        text=True,
    ) as server:
        try:
            url = f"http://127.0.0.1:{port}{path}"
            wait_until(lambda: server.poll() is not None or answers(url), 60, "the server answers")
            assert server.poll() is None, server.stderr.read()
            yield url, outcome
        finally:
            server.send_signal(signal.SIGTERM)
            _, outcome["log"] = server.communicate(timeout=30)
    outcome["returncode"] = server.returncode


def test_it_serves_the_factory_with_a_fresh_metrics_directory_and_stops_on_sigterm(tmp_path):
    metrics = tmp_path / "metrics"
    metrics.mkdir()
    (metrics / "counter_12345.db").write_bytes(b"from an earlier run")
    env = {"PROMETHEUS_MULTIPROC_DIR": str(metrics)}
    with serving("create_app", env, "/where") as (url, outcome):
        assert requests.get(url, timeout=5).json() == {"remote": "127.0.0.1"}
        assert list(metrics.iterdir()) == []
    assert outcome["returncode"] == 0
    assert "Granian shutdown completed" in outcome["log"]


def test_a_request_cannot_read_the_secrets_the_app_was_built_with():
    secrets = {name: f"{name.lower()}-0123456789abcdef" for name in SECRETS}
    with serving("secret_keeping_app", secrets, "/environ") as (url, _):
        seen = requests.get(url, timeout=5).json()
    assert seen == {"built_with": secrets["SECRET_KEY"], "request": ["PATH"], "process": ["PATH"]}


@pytest.mark.parametrize("bind", ["5001", ":5001", "localhost:http", "localhost:0", "h:70000"])
def test_a_bad_address_is_refused_by_name(bind):
    result = run_module("ordersync.service.serve", "store:create_app", f"--bind={bind}", timeout=60)
    assert result.returncode == 2
    assert f"'{bind}' is not HOST:PORT" in result.stderr


def test_an_address_splits_at_its_last_colon():
    assert address("0.0.0.0:5001") == ("0.0.0.0", 5001)
    assert address("[::1]:8080") == ("::1", 8080)


def test_a_worker_deaf_to_sigterm_is_killed_and_the_server_still_stops():
    port = free_port()
    command = [sys.executable, "-m", "ordersync.service.serve", f"{__name__}:deaf_app"]
    with subprocess.Popen(
        [*command, f"--bind=127.0.0.1:{port}"],
        cwd=topology.ROOT,
        env={"PATH": "/usr/bin:/bin"},
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,  # its own process group: a failed run leaves no worker behind
    ) as server:
        try:
            url = f"http://127.0.0.1:{port}/where"
            wait_until(lambda: server.poll() is not None or answers(url), 60, "the server answers")
            assert server.poll() is None, server.stderr.read()
        finally:
            server.send_signal(signal.SIGTERM)
            try:
                _, log = server.communicate(timeout=KILL_AFTER + 20)
            except subprocess.TimeoutExpired:
                os.killpg(server.pid, signal.SIGKILL)
                raise
    assert server.returncode == 0
    assert "refused to gracefully stop" in log
