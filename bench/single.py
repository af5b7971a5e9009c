"""One request at a time on an idle stack, beside the bare Flask insert endpoint (the floor)."""

import contextlib
import os
import statistics
import subprocess
import time
import uuid

import requests

from bench import cost
from bench.client import PATHS, Tokens, order_body
from bench.db import connect, retire
from bench.floor_app import TABLE
from ordersync import topology
from ordersync.db.roles import APP
from stack.components import http_ok
from stack.probes import wait_until
from stack.secrets import database_url
from stack.topology import ROOT, VENV_BIN


def timed(call, n: int) -> list[float]:
    """Seconds each of n sequential calls took."""
    out = []
    for i in range(n):
        began = time.perf_counter()
        call(i)
        out.append(time.perf_counter() - began)
    return out


def figures(durations: list[float], cpu_seconds: float) -> dict:
    """p50 in ms and the server's CPU-ms per request."""
    return {
        "p50_ms": round(statistics.median(durations) * 1000, 2),
        "cpu_ms": round(cpu_seconds * 1000 / len(durations), 3),
    }


def measure(pids: dict, call, n: int) -> dict:
    """Time n sequential calls and the CPU the given processes spent on them."""
    with cost.metered(pids) as meter:
        durations = timed(call, n)
    return figures(durations, sum(meter.used.values()))


def checked(response: requests.Response, status: int = 200) -> requests.Response:
    """The response, or an error when it is not the expected status."""
    if response.status_code != status:
        raise RuntimeError(f"{response.request.method} {response.url}: {response.status_code}")
    return response


def api_calls(n: int) -> dict:
    """create, get, list (20 rows) and healthz on the Store API, n of each, one at a time."""
    http, base = requests.Session(), topology.app_url("store") + PATHS["store"]
    http.headers.update(Tokens.headers("store"))
    prefix, ids = f"SQ{uuid.uuid4().hex[:6]}", []
    app = {"store_app": cost.stack_pids()["store_app"]}

    def create(i):
        body = order_body("store", order_number=f"{prefix}-{i}")
        ids.append(checked(http.post(base, json=body, timeout=10), 201).json()["id"])

    out = {"create": measure(app, create, n)}
    out["get"] = measure(app, lambda i: checked(http.get(f"{base}/{ids[i]}", timeout=10)), n)
    out["list"] = measure(
        app, lambda i: checked(http.get(base, params={"page_size": 20}, timeout=10)), n
    )
    health = topology.app_url("store") + "/healthz"
    out["healthz"] = measure(app, lambda i: checked(http.get(health, timeout=10)), n)
    retire("store", prefix)
    return out


@contextlib.contextmanager
def floor_server():
    """The bare Flask app served as the apps are (ordersync.service.serve); yields (url, pid)."""
    admin = connect("store")
    with admin.cursor() as cur:
        cur.execute(f"DROP TABLE IF EXISTS {TABLE}")
        cur.execute(f"CREATE TABLE {TABLE} (id uuid PRIMARY KEY, order_number text NOT NULL)")
        cur.execute(f"GRANT INSERT ON {TABLE} TO {APP.name}")
    port = topology.APP_PORTS["store"] + 100  # beside the stack's own ports, shifted with them
    process = subprocess.Popen(
        [
            str(VENV_BIN / "python"),
            "-m",
            "ordersync.service.serve",
            "bench.floor_app:create_app",
            f"--bind={topology.HOST}:{port}",
        ],
        cwd=ROOT,
        env=os.environ | {"DATABASE_URL": database_url("store", APP.name)},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://{topology.HOST}:{port}"
    try:
        wait_until(lambda: process.poll() is not None or http_ok(url + "/healthz"), 60, "floor")
        if process.poll() is not None:
            raise RuntimeError(f"the floor app exited with {process.returncode}")
        yield url, process.pid
    finally:
        process.terminate()
        process.wait(30)
        with admin.cursor() as cur:
            cur.execute(f"DROP TABLE IF EXISTS {TABLE}")
        admin.close()


def floor_calls(n: int) -> dict:
    """create and healthz on the floor app, n of each, one at a time."""
    http = requests.Session()
    with floor_server() as (url, pid):
        app = {"floor_app": pid}

        def create(i):
            checked(http.post(url + "/orders", json={"order_number": f"F-{i}"}, timeout=10), 201)

        return {
            "create": measure(app, create, n),
            "healthz": measure(app, lambda i: checked(http.get(url + "/healthz")), n),
        }


def single_requests(n: int) -> dict:
    """The API's single-request latency and CPU beside the floor's, and their ratio for a create."""
    api, floor = api_calls(n), floor_calls(n)
    return {
        "requests": n,
        "api": api,
        "floor": floor,
        "create_vs_floor": round(api["create"]["p50_ms"] / floor["create"]["p50_ms"], 2),
    }
