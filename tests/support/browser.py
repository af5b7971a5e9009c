"""Driving the admin dashboards in a real browser."""

from ordersync import topology
from stack.secrets import admin_password
from stack.topology import ROOT

ARTIFACTS = ROOT / "tests" / "artifacts"


def signed_in_page(browser, side: str, username: str = "admin", password: str | None = None):
    """Open a fresh context and sign in to one side's admin; return the page."""
    page = browser.new_context().new_page()
    page.goto(f"{topology.app_url(side)}/admin/login")
    page.fill("#username", username)
    page.fill("#password", password or admin_password()[0])
    page.click("button[type=submit]")
    return page
