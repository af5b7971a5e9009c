"""`make topics` and `make tail`: look at Kafka without Docker or code."""

import re

from bench.client import order_body
from ordersync.sync.mapping import topic
from tests.support.processes import run_module
from tests.support.sync import arrives, settled


def test_topics_lists_change_topics_and_the_sinks_lag(apis):
    settled()
    result = run_module("stack", "topics")
    assert result.returncode == 0, result.stderr
    for side in ("store", "warehouse"):
        assert re.search(rf"^{re.escape(topic(side))}\s+0\s+\d+$", result.stdout, re.M)
    other = {"store": "warehouse", "warehouse": "store"}
    for side, target in other.items():
        row = rf"^sink-{side}-to-{target}\s+{re.escape(topic(side))}\[0\]\s+\d+\s+0$"
        assert re.search(row, result.stdout, re.M), result.stdout[-2000:]


def test_tail_prints_one_orders_history_in_order(apis):
    order = apis["store"].create(order_body("store"))
    apis["store"].patch(order["id"], {"notes": "second"})
    arrives("warehouse", order["id"], notes="second")
    result = run_module("stack", "tail", topic("store"), "--order", order["id"], "--no-follow")
    assert result.returncode == 0, result.stderr
    assert result.stdout.count(f'"id": "{order["id"]}"') == 3  # c: after; u: before and after
    assert result.stdout.index('"op": "c"') < result.stdout.index('"op": "u"')
    assert '"notes": "second"' in result.stdout
