"""The admin dashboards in a real headless Chromium, on the running stack."""

import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

from stack import supervisor, topology
from stack.cli import start_component
from stack.client import order_body
from stack.components import all_components
from stack.secrets import admin_password
from tests.e2e.dead_letters import dead_lettered_collision
from tests.e2e.test_sync import arrives, settled
from tests.helpers import fetch_row, wait_for

playwright = pytest.importorskip("playwright.sync_api")

CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
ARTIFACTS = topology.ROOT / "tests" / "artifacts"
FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture(scope="module")
def browser(stack):
    """A headless Debian Chromium driven by Playwright."""
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: install Debian's chromium (.ci/run does)")
    with playwright.sync_playwright() as p:
        instance = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=FLAGS)
        yield instance
        instance.close()


def sign_in(browser, side: str, username: str = "admin", password: str | None = None):
    """Open a fresh context and sign in to one side's admin; return the page."""
    page = browser.new_context().new_page()
    page.goto(f"{topology.app_url(side)}/admin/login")
    page.fill("#username", username)
    page.fill("#password", password or admin_password()[0])
    page.click("button[type=submit]")
    return page


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
    store = sign_in(browser, "store")
    store.goto(f"{topology.app_url('store')}/admin/orders/new/")
    store.fill("#order_number", number)
    store.fill("#customer_name", "Grace Hopper")
    store.fill("#shipping_address", "1 Compiler Ct")
    store.fill("#items", '[{"sku": "COBOL-1", "quantity": 1}]')
    store.click("input[type=submit][value=Save]")
    store_list = f"{topology.app_url('store')}/admin/orders/?search={number}"
    assert shows(store, store_list, number)

    warehouse = sign_in(browser, "warehouse")
    warehouse_list = f"{topology.app_url('warehouse')}/admin/orders/?search={number}"
    wait_for(lambda: shows(warehouse, warehouse_list, number), 30, "the order in the warehouse")
    warehouse.screenshot(path=str(ARTIFACTS / "warehouse-admin-list.png"), full_page=True)

    warehouse.locator("tr", has_text=number).locator("a[title='Edit Record']").click()
    assert warehouse.locator("#sync-author").inner_text() == "store"
    warehouse.select_option("#status", "shipped", force=True)
    warehouse.click("input[type=submit][value=Save]")
    wait_for(lambda: row_status(store, store_list, number) == "shipped", 30, "shipped in store")
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
        env=os.environ | {"DATABASE_URL": topology.database_url("store")},
        cwd=topology.ROOT,
    )
    page = sign_in(browser, "store", name, "viewer-password")
    assert "Only admin users may sign in here." in page.content()
    page.goto(f"{topology.app_url('store')}/admin/orders/")
    assert "/admin/login" in page.url


def test_the_sync_page_lists_a_dead_letter_and_replays_it_once_fixed(browser, apis):
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    order_id, blocker, number = dead_lettered_collision(apis)
    page = sign_in(browser, "warehouse")
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
    page = sign_in(browser, "store")
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
    page = sign_in(browser, "warehouse")
    page.goto(f"{topology.app_url('warehouse')}/admin/orders/edit/?id={order['id']}")
    changed = apis["warehouse"].patch(order["id"], {"notes": "changed meanwhile"})
    page.select_option("#status", "cancelled", force=True)
    page.click("input[type=submit][value=Save]")
    assert "Not saved: this order was changed since you opened it" in page.content()
    row = fetch_row("warehouse", order["id"])
    assert (row["version"], row["status"], row["notes"]) == (
        changed["version"],
        "pending",
        "changed meanwhile",
    )
