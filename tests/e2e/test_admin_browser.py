"""The admin dashboards in a real headless Chromium, on the running stack."""

import os
import subprocess
import sys
import uuid

from ordersync import topology
from stack.probes import wait_until
from stack.secrets import database_url
from stack.topology import ROOT
from tests.support.browser import ARTIFACTS, signed_in_page


def shows(page, url: str, text: str) -> bool:
    """Reload a page and tell whether it shows the text."""
    page.goto(url)
    return text in page.content()


def row_status(page, url: str, number: str) -> str | None:
    """The status cell of the order's row in a list page, after a reload."""
    page.goto(url)
    row = page.locator("tr", has_text=number)
    return row.locator("td.col-status").inner_text().strip() if row.count() else None


def test_create_in_store_admin_edit_in_warehouse_admin(browser):
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    number = f"UI-{uuid.uuid4().hex[:8]}"
    store = signed_in_page(browser, "store")
    store.goto(f"{topology.app_url('store')}/admin/orders/new/")
    store.fill("#order_number", number)
    store.fill("#customer_name", "Grace Hopper")
    store.fill("#shipping_address", "1 Compiler Ct")
    store.fill("#items", '[{"sku": "COBOL-1", "quantity": 1}]')
    store.click("input[type=submit][value=Save]")
    store_list = f"{topology.app_url('store')}/admin/orders/?search={number}"
    assert shows(store, store_list, number)

    warehouse = signed_in_page(browser, "warehouse")
    warehouse_list = f"{topology.app_url('warehouse')}/admin/orders/?search={number}"
    wait_until(lambda: shows(warehouse, warehouse_list, number), 30, "the order in the warehouse")
    warehouse.screenshot(path=str(ARTIFACTS / "warehouse-admin-list.png"), full_page=True)

    warehouse.locator("tr", has_text=number).locator("a[title='Edit Record']").click()
    assert warehouse.locator("#sync-author").inner_text() == "store"
    warehouse.select_option("#status", "shipped", force=True)
    warehouse.click("input[type=submit][value=Save]")
    wait_until(lambda: row_status(store, store_list, number) == "shipped", 30, "shipped in store")
    store.screenshot(path=str(ARTIFACTS / "store-admin-list.png"), full_page=True)


def test_a_non_admin_login_is_refused(browser):
    name = f"ui-viewer-{uuid.uuid4().hex[:6]}"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "flask",
            "--app",
            "store",
            "users",
            "create",
            name,
            "--role",
            "viewer",
        ],
        input="viewer-password\n",
        text=True,
        check=True,
        capture_output=True,
        env=os.environ | {"DATABASE_URL": database_url("store"), "APP_ENV": "development"},
        cwd=ROOT,
    )
    page = signed_in_page(browser, "store", name, "viewer-password")
    assert "Only admin users may sign in here." in page.content()
    page.goto(f"{topology.app_url('store')}/admin/orders/")
    assert "/admin/login" in page.url
