"""kill -9 a sink, then Kafka Connect, then PostgreSQL, under write load: nothing is lost."""

import os
import signal

import psycopg2.extras

from ordersync.mapping import TABLES
from stack import supervisor
from stack.components import all_components
from stack.probes import wait_until
from tests.support.db import connect
from tests.support.load import WriteLoad
from tests.support.processes import reconcile
from tests.support.sync import settled

COMPONENTS = {c.name: c for c in all_components()}


def pid_of(name: str) -> int:
    """The pid supervisord reports for a running component."""
    return supervisor.states()[name]["pid"]


def crash(name: str, acked_before: int, load: WriteLoad) -> None:
    """kill -9 a component's whole process group, then wait until it is back and the load moves."""
    old = pid_of(name)
    os.killpg(os.getpgid(old), signal.SIGKILL)
    component = COMPONENTS[name]

    def back():
        info = supervisor.states()[name]
        return info["statename"] == "RUNNING" and info["pid"] != old and component.ready()

    wait_until(back, 120, f"{name} restarted by supervisord")
    wait_until(lambda: len(load.acked.created) > acked_before + 20, 120, f"writes after {name}")


def rows(side: str) -> dict:
    """Map order id to (notes, deleted) on one side."""
    conn = connect(side)
    with conn.cursor(cursor_factory=psycopg2.extras.DictCursor) as cur:
        cur.execute(f"SELECT id::text, notes FROM {TABLES[side]}")
        result = {r[0]: r[1] for r in cur.fetchall()}
    conn.close()
    return result


def test_every_acknowledged_write_survives_crashes(apis):
    with WriteLoad() as load:
        wait_until(lambda: len(load.acked.created) > 50, 60, "the load to start")
        for name in ("sink-store-to-warehouse", "connect", "store-db"):
            crash(name, len(load.acked.created), load)
    for component in all_components():
        wait_until(component.ready, 120, f"{component.name} ready")
    wait_until(lambda: reconcile().returncode == 0, 180, "both databases to agree")
    settled()
    store, warehouse = rows("store"), rows("warehouse")
    missing = [i for i in load.acked.created if i not in store or i not in warehouse]
    assert missing == []
    # a later, unacknowledged write may have committed before its connection died: >= not ==
    stale = [
        i
        for i, notes in load.acked.notes.items()
        if not (store[i] or "") >= notes or store[i] != warehouse[i]
    ]
    assert stale == []
    assert len(load.acked.created) > 100
