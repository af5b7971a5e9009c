"""kill -9 a sink, then Kafka Connect, then PostgreSQL, under write load: nothing is lost."""

import os
import signal

from stack import supervisor
from stack.components import all_components
from stack.probes import wait_until
from tests.support.load import WriteLoad, lost_writes, notes_by_id
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


def test_every_acknowledged_write_survives_crashes(apis):
    with WriteLoad() as load:
        wait_until(lambda: len(load.acked.created) > 50, 60, "the load to start")
        for name in ("sink-store-to-warehouse", "connect", "store-db"):
            crash(name, len(load.acked.created), load)
    for component in all_components():
        wait_until(component.ready, 120, f"{component.name} ready")
    wait_until(lambda: reconcile().returncode == 0, 180, "both databases to agree")
    settled()
    missing, stale = lost_writes(load.acked, notes_by_id("store"), notes_by_id("warehouse"))
    assert missing == []
    assert stale == []
    assert len(load.acked.created) > 100
