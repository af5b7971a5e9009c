"""The admin's conflicts in a real headless Chromium, after concurrent edits on the stack."""

from ordersync import topology
from tests.support.browser import ARTIFACTS, signed_in_page
from tests.support.conflicts import TIES, tied_order


def test_ties_show_on_each_sides_order_page_and_in_the_filtered_list(apis, browser):
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    order = tied_order(apis)
    pages = {}
    for side, decided in TIES.items():
        page = pages[side] = signed_in_page(browser, side)
        page.goto(f"{topology.app_url(side)}/admin/orders/details/?id={order['id']}")
        assert page.locator("tr.conflict").count() == len(decided)
        for field, (winner, local, incoming) in decided.items():
            row = page.locator(f"tr.conflict[data-field={field}]")
            assert row.count() == 1, (side, field)
            assert row.get_attribute("data-winner") == winner, (side, field)
            assert f'"{local}"' in row.locator("td.local-value").inner_text()
            assert f'"{incoming}"' in row.locator("td.incoming-value").inner_text()
        page.screenshot(path=str(ARTIFACTS / f"{side}-order-conflicts.png"), full_page=True)

    store = pages["store"]
    store.goto(f"{topology.app_url('store')}/admin/conflicts/?order={order['id']}")
    store.select_option("#filter-winner", "local")
    store.select_option("#filter-field", "status")
    store.click("#conflict-filters button[type=submit]")
    assert store.locator("#no-conflicts").count() == 1  # the store's status lost: none won here
    store.select_option("#filter-winner", "incoming")
    store.click("#conflict-filters button[type=submit]")
    assert store.locator("tr.conflict").count() == 1
    store.select_option("#filter-field", index=0)  # any field
    store.select_option("#filter-winner", "local")
    store.click("#conflict-filters button[type=submit]")
    assert store.locator("tr.conflict[data-field=notes]").count() == 1  # its owned notes stayed
