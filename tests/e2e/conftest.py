"""Fixtures for tests that drive the running stack through its public interfaces."""

import os
from pathlib import Path

import pytest

from ordersync.sync.mapping import SIDES
from tests.support.sync import Api


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
