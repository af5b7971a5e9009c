"""The conflict log on the running stack: one record per decided field on each side, via the API."""

import os
import re
import subprocess
import sys
import uuid

from ordersync.db.roles import SINK
from ordersync.kafka.access import ADMIN
from stack import topology
from stack.probes import free_port, wait_until
from stack.secrets import database_url, kafka_env
from tests.support.conflicts import TIES, synced_order, tied_order
from tests.support.kafka import sink_caught_up
from tests.support.metrics import sink_metric
from tests.support.processes import sinks_paused
from tests.support.sync import arrives, settled


def by_field(apis, side: str, order_id) -> dict:
    """The order's conflicts on one side, by field; a field decided twice fails the test."""
    found = apis[side].conflicts(order_id)
    fields = [c["field"] for c in found]
    assert len(fields) == len(set(fields)), found
    return {c["field"]: c for c in found}


def replay(source: str, target: str) -> None:
    """Re-consume a source topic from its start in a scratch group, until caught up."""
    group = f"replay-{uuid.uuid4().hex[:8]}"
    env = os.environ | {
        "SINK_DATABASE_URL": database_url(target, SINK.name),
        **kafka_env(ADMIN),  # a scratch group no job principal may use
        "SINK_GROUP_ID": group,
        "SINK_METRICS_PORT": str(free_port()),
    }
    command = [sys.executable, "-m", "connectors.sink", "--source", source, "--target", target]
    sink = subprocess.Popen(
        command, cwd=topology.ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    try:
        wait_until(lambda: sink_caught_up(source, group), 60, "the replay consumer")
    finally:
        sink.terminate()
        sink.wait(30)


def make_conflicts(order_id) -> dict[str, list[str]]:
    """`make conflicts ORDER=<id>`'s lines, by the side whose section they are in."""
    out = subprocess.run(
        ["make", "-s", "conflicts", f"ORDER={order_id}"],
        cwd=topology.ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    parts = re.split(r"^== (\w+) ==$", out, flags=re.MULTILINE)[1:]
    return {side: text.split("\n") for side, text in zip(parts[::2], parts[1::2], strict=True)}


def test_concurrent_edits_of_one_field_are_recorded_once_per_side_with_the_winner(apis):
    order = tied_order(apis)
    at_store = by_field(apis, "store", order["id"])
    at_warehouse = by_field(apis, "warehouse", order["id"])
    assert sorted(at_store) == sorted(at_warehouse) == ["notes", "status"]
    for side, decided in (("store", at_store), ("warehouse", at_warehouse)):
        for field, (winner, local, incoming) in TIES[side].items():
            conflict = decided[field]
            assert (conflict["winner"], conflict["rule"]) == (winner, "owner_tie"), conflict
            assert (conflict["local_value"], conflict["incoming_value"]) == (local, incoming)
            assert conflict["local_version"] == conflict["incoming_version"] == 2
    for side in TIES:  # each sink restarted after the pause: this order's decisions alone
        for field in ("status", "notes"):
            counted = sink_metric(side, "sink_conflicts_total", field=field, rule="owner_tie")
            assert counted == 1, (side, field)
    listed = make_conflicts(order["id"])
    for side, decided in TIES.items():
        lines = [line for line in listed[side] if order["id"] in line]
        assert len(lines) == len(decided), listed[side]
        for field, (winner, _, _) in decided.items():
            assert any(f" {field} {winner} owner_tie " in line for line in lines), (side, lines)

    replay("store", "warehouse")
    replay("warehouse", "store")
    settled()
    assert by_field(apis, "store", order["id"]) == at_store
    assert by_field(apis, "warehouse", order["id"]) == at_warehouse


def test_concurrent_edits_of_different_fields_record_nothing(apis):
    order = synced_order(apis)
    with sinks_paused():
        apis["store"].patch(order["id"], {"notes": "store note"})
        apis["warehouse"].patch(order["id"], {"status": "processing"})
    arrives("store", order["id"], notes="store note", status="processing")
    arrives("warehouse", order["id"], notes="store note", status="processing")
    settled()
    assert apis["store"].conflicts(order["id"]) == []
    assert apis["warehouse"].conflicts(order["id"]) == []


def test_a_newer_edit_over_an_unseen_value_is_recorded_where_that_value_is_lost(apis):
    order = synced_order(apis)
    with sinks_paused():
        # the store edits the status twice (versions 2 and 3), the warehouse, its owner, once (2)
        apis["store"].patch(order["id"], {"status": "processing"})
        apis["store"].patch(order["id"], {"status": "cancelled"})
        apis["warehouse"].patch(order["id"], {"status": "shipped"})
    arrives("warehouse", order["id"], status="cancelled")
    arrives("store", order["id"], status="cancelled")
    settled()
    # at the warehouse the store's version 2 lost the tie to the owner's value, then the store's
    # version 3, written over the store's own version 2, replaced the warehouse's value
    at_warehouse = apis["warehouse"].conflicts(order["id"])
    assert [(c["rule"], c["winner"], c["incoming_value"]) for c in at_warehouse] == [
        ("newer_version", "incoming", "cancelled"),
        ("owner_tie", "local", "processing"),
    ]
    assert all(c["local_value"] == "shipped" for c in at_warehouse)
    # the store only saw an older incoming value: the warehouse recorded that decision
    assert apis["store"].conflicts(order["id"]) == []
