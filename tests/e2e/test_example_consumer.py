"""examples/status_counts.py against the live topics: its projection equals the databases."""

import json
import os
import sqlite3
import sys

from bench.client import order_body
from ordersync import topology
from ordersync.db.roles import READER
from ordersync.sync.mapping import TABLES
from stack.secrets import kafka_env
from stack.topology import ROOT
from tests.support.db import connect
from tests.support.processes import run_module
from tests.support.sync import arrives, settled

EXAMPLE = str(ROOT / "examples" / "status_counts.py")


def projected(state) -> dict:
    """Run the example to the end of both topics and return its counts."""
    import subprocess

    result = subprocess.run(
        [
            sys.executable,
            EXAMPLE,
            "--bootstrap-servers",
            topology.BOOTSTRAP_SERVERS,
            "--state",
            str(state),
            "--once",
        ],
        capture_output=True,
        text=True,
        timeout=300,
        check=True,
        # its own principal: read-only on the change topics (ordersync.kafka.access)
        env=os.environ | kafka_env("example"),
    )
    return json.loads(result.stdout)


def in_database(side: str) -> dict:
    """Live orders per status in one side's database."""
    conn = connect(side, role=READER.name)
    with conn.cursor() as cur:
        cur.execute(
            f"SELECT status, count(*) AS n FROM {TABLES[side]} WHERE NOT deleted GROUP BY status"
        )
        rows = {r["status"]: r["n"] for r in cur.fetchall()}
    conn.close()
    return rows


def test_the_example_projection_matches_both_databases_across_restarts(apis, tmp_path):
    state = tmp_path / "counts.db"
    settled()
    assert projected(state) == in_database("store") == in_database("warehouse")

    order = apis["store"].create(order_body("store"))
    arrives("warehouse", order["id"])
    apis["warehouse"].patch(order["id"], {"status": "shipped"})
    arrives("store", order["id"], status="shipped")
    settled()
    assert projected(state) == in_database("store")  # resumed from its own positions

    with sqlite3.connect(state) as db:  # forget every position: a full replay
        db.execute("DELETE FROM position")
    assert projected(state) == in_database("warehouse")
    assert run_module("connectors.reconcile").returncode == 0
