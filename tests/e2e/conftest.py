"""Fixtures for tests that drive the running stack through its public interfaces."""

import os
from pathlib import Path

import pytest

from ordersync.mapping import SIDES
from stack import topology
from stack.client import PATHS, authed_session


class Api:
    """A tiny client of one side's order API on the running stack."""

    def __init__(self, side: str):
        self.side = side
        self.url = topology.app_url(side) + PATHS[side]
        self.http = authed_session(side)

    def create(self, body: dict) -> dict:
        """POST an order and return it."""
        response = self.http.post(self.url, json=body, timeout=10)
        assert response.status_code == 201, response.text
        return response.json()

    def patch(self, order_id, body: dict) -> dict:
        """PATCH an order and return it."""
        response = self.http.patch(f"{self.url}/{order_id}", json=body, timeout=10)
        assert response.status_code == 200, response.text
        return response.json()

    def delete(self, order_id) -> None:
        """DELETE an order."""
        response = self.http.delete(f"{self.url}/{order_id}", timeout=10)
        assert response.status_code == 204, response.text

    def status_of(self, order_id) -> int:
        """Return the HTTP status of a GET on the order."""
        return self.http.get(f"{self.url}/{order_id}", timeout=10).status_code


@pytest.fixture(scope="session")
def apis(stack):
    """Clients of both running services, by side."""
    return {side: Api(side) for side in SIDES}


CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
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
    playwright = pytest.importorskip("playwright.sync_api")
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: install Debian's chromium (`make test` does)")
    with playwright.sync_playwright() as p:
        instance = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=FLAGS)
        yield instance
        instance.close()
