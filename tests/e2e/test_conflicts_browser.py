"""The admin's conflicts in a real headless Chromium, after concurrent edits on the stack."""

from bench.client import order_body
from ordersync import topology
from tests.support.browser import ARTIFACTS, signed_in_page
from tests.support.processes import sinks_paused
from tests.support.sync import arrives, settled


def test_a_tie_shows_on_the_orders_page_and_in_the_filtered_list(apis, browser):
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    order = apis["store"].create(order_body("store"))
    arrives("warehouse", order["id"], order_number=order["order_number"])
    with sinks_paused():
        apis["store"].patch(order["id"], {"status": "cancelled"})
        apis["warehouse"].patch(order["id"], {"status": "shipped"})
    arrives("store", order["id"], status="shipped")
    settled()
    store = signed_in_page(browser, "store")
    admin = f"{topology.app_url('store')}/admin"
    store.goto(f"{admin}/orders/details/?id={order['id']}")
    row = store.locator("tr.conflict[data-field=status]")
    assert row.count() == 1
    assert row.get_attribute("data-winner") == "incoming"
    assert '"cancelled"' in row.locator("td.local-value").inner_text()
    assert '"shipped"' in row.locator("td.incoming-value").inner_text()
    store.screenshot(path=str(ARTIFACTS / "store-order-conflicts.png"), full_page=True)

    store.goto(f"{admin}/conflicts/?order={order['id']}")
    store.select_option("#filter-winner", "local")
    store.click("#conflict-filters button[type=submit]")
    assert store.locator("#no-conflicts").count() == 1  # the store's value lost: none won here
    store.select_option("#filter-winner", "incoming")
    store.select_option("#filter-field", "status")
    store.click("#conflict-filters button[type=submit]")
    assert store.locator("tr.conflict").count() == 1
