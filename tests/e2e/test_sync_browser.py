"""The admin's Sync page and the stale-save guard in a real headless Chromium, on the stack."""

from bench.client import order_body
from ordersync import topology
from stack import supervisor
from stack.cli import start_component
from stack.components import all_components
from tests.support.browser import ARTIFACTS, signed_in_page
from tests.support.db import fetch_row
from tests.support.dead_letters import dead_lettered_collision
from tests.support.sync import arrives, settled


def test_the_sync_page_lists_a_dead_letter_and_replays_it_once_fixed(browser, apis):
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    order_id, blocker, number = dead_lettered_collision(apis)
    page = signed_in_page(browser, "warehouse")
    page.goto(f"{topology.app_url('warehouse')}/admin/sync/")
    assert page.locator("#sync-direction").inner_text() == "sink-store-to-warehouse"
    assert page.locator("#sink-state").inner_text().strip() == "healthy"
    assert "messages" in page.locator("#sink-lag").inner_text()
    row = page.locator("#dead-letter-table tr", has_text=order_id)
    assert row.locator(".dead-letter-reason").inner_text() == "rejected-by-database"
    page.screenshot(path=str(ARTIFACTS / "warehouse-admin-sync.png"), full_page=True)

    apis["warehouse"].patch(blocker["id"], {"order_number": f"{number}-old"})
    page.click("#replay-form button[type=submit]")
    assert "Replayed" in page.locator(".alert-success").inner_text()
    arrives("warehouse", order_id, order_number=number)
    settled()
    page.goto(f"{topology.app_url('warehouse')}/admin/sync/")
    assert order_id not in page.content()
    assert page.locator("#dead-letter-count").inner_text() == "0"

    apis["warehouse"].delete(order_id)  # the forged order never existed in the store
    arrives("store", order_id, deleted=True)


def test_the_sync_page_says_unavailable_while_its_sink_is_down(browser):
    sink = next(c for c in all_components() if c.name == "sink-warehouse-to-store")
    page = signed_in_page(browser, "store")
    supervisor.stop(sink.name)
    try:
        page.goto(f"{topology.app_url('store')}/admin/sync/")
        assert page.locator("#sink-state").inner_text().strip() == "unavailable"
        assert page.locator("#dead-letter-count").inner_text() != "unavailable"  # Kafka is up
    finally:
        start_component(sink)
    page.goto(f"{topology.app_url('store')}/admin/sync/")
    assert page.locator("#sink-state").inner_text().strip() == "healthy"


def test_a_stale_save_in_the_edit_form_is_refused(browser, apis):
    order = apis["warehouse"].create(order_body("warehouse"))
    page = signed_in_page(browser, "warehouse")
    page.goto(f"{topology.app_url('warehouse')}/admin/orders/edit/?id={order['id']}")
    changed = apis["warehouse"].patch(order["id"], {"notes": "changed meanwhile"})
    page.select_option("#status", "cancelled", force=True)
    page.click("input[type=submit][value=Save]")
    # waits for the answer page: content() read mid-navigation is empty
    page.get_by_text("Not saved: this order was changed since you opened it").wait_for()
    row = fetch_row("warehouse", order["id"])
    assert (row["version"], row["status"], row["notes"]) == (
        changed["version"],
        "pending",
        "changed meanwhile",
    )
