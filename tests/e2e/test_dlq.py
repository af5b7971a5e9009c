"""Dead letters on the running stack: listed, replayed once their cause is fixed, only once."""

from ordersync.mapping import topic
from stack import report
from tests.support.db import fetch_row
from tests.support.dead_letters import dead_lettered_collision, pending_letter
from tests.support.kafka import end_offset
from tests.support.processes import run_module
from tests.support.sync import arrives, settled


def dead_letter_check(source: str) -> report.Check:
    """The `make status` line about dead letters of the direction reading `source`."""
    name = f"dead letters {source}-to-"
    return next(c for c in report.dead_letter_checks() if c.name.startswith(name))


def dlq(*args: str):
    """Run `python -m connectors.dlq` for the store → warehouse direction."""
    return run_module("connectors.dlq", "--source", "store", *args)


def test_a_dead_letter_is_listed_fixed_and_replayed_exactly_once(apis):
    order_id, blocker, number = dead_lettered_collision(apis)
    letter = pending_letter("store", order_id)
    assert letter.reason == "rejected-by-database"
    assert "order_number" in letter.error
    assert dead_letter_check("store").warning

    listed = dlq()
    assert listed.returncode == 0, listed.stderr
    line = next(x for x in listed.stdout.splitlines() if order_id in x)
    assert "rejected-by-database" in line and f"{topic('store')}[0]@{letter.offset}" in line
    assert fetch_row("warehouse", order_id) is None

    # the cause: a live warehouse order holds the number; rename it, then replay
    apis["warehouse"].patch(blocker["id"], {"order_number": f"{number}-old"})
    replayed = dlq("--replay")
    assert replayed.returncode == 0, replayed.stderr
    assert f"(order {order_id})" in replayed.stdout
    row = arrives("warehouse", order_id, order_number=number, sync_origin="store")
    settled()
    assert pending_letter("store", order_id) is None
    check = dead_letter_check("store")
    assert check.value.startswith("0 since the last replay") and not check.warning

    end = end_offset(topic("store"))
    again = dlq("--replay")
    assert again.returncode == 0, again.stderr
    assert "replayed 0" in again.stdout
    settled()
    assert end_offset(topic("store")) == end
    assert fetch_row("warehouse", order_id)["version"] == row["version"]

    # the forged order never existed in the store: delete it so both sides agree again
    apis["warehouse"].delete(order_id)
    arrives("store", order_id, deleted=True)
    settled()
