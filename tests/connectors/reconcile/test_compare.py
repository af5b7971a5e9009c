"""The pure side of reconcile: what differs, and which state a repair writes."""

from connectors.reconcile.compare import compare, repair_state
from ordersync.sync.mapping import STORE, TOMBSTONE, WAREHOUSE
from tests.support.fakes import state


def with_id(s, order_id):
    """Copy a state under another order id."""
    return type(s)(order_id, s.values, s.clock, s.author)


def test_identical_sides_are_in_sync():
    report = compare({"o1": state(STORE)}, {"o1": state(WAREHOUSE)})
    assert report.in_sync
    assert report.lines()[-1] == "missing in store: 0, missing in warehouse: 0, differing: 0"


def test_missing_extra_and_differing_orders_are_reported():
    store = {"o1": state(STORE), "o2": with_id(state(STORE), "o2")}
    warehouse = {"o1": state(WAREHOUSE, status="shipped"), "o3": with_id(state(WAREHOUSE), "o3")}
    report = compare(store, warehouse)
    assert not report.in_sync
    assert [s.id for s in report.missing[WAREHOUSE]] == ["o2"]
    assert [s.id for s in report.missing[STORE]] == ["o3"]
    assert [(a.id, names) for a, _, names in report.differing] == [("o1", ["status"])]
    assert "status: store='pending' warehouse='shipped'" in "\n".join(report.lines())


def test_a_tombstone_facing_a_purged_row_is_in_sync():
    assert compare({"o1": state(STORE, **{TOMBSTONE: True})}, {}).in_sync


def test_repair_writes_the_merge_winner_above_both_clocks():
    store = state(STORE, {"status": 2, "notes": 3}, status="cancelled", notes="s")
    warehouse = state(WAREHOUSE, {"status": 2, "notes": 1}, status="shipped", notes="w")
    side, repaired = repair_state(store, warehouse)
    assert side == STORE and repaired.author == STORE
    assert repaired.values["status"] == "shipped"  # tie: the warehouse owns status
    assert repaired.values["notes"] == "s"  # higher version
    assert repaired.clock["status"] == 3 and repaired.clock["notes"] == 4


def test_repair_of_a_missing_order_rewrites_the_side_that_has_it():
    side, repaired = repair_state(None, state(WAREHOUSE))
    assert side == WAREHOUSE
    assert set(repaired.clock.values()) == {2}
