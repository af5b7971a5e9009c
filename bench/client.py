"""A small client of the running dev stack, for tests and benchmarks: paths, bodies, tokens."""

from importlib import import_module
from uuid import uuid4

import requests

from ordersync import topology
from ordersync.sync.mapping import SIDES, columns
from stack.secrets import admin_password

# the order collection of each side, as its blueprint declares it
PATHS = {side: import_module(f"{side}.resources").blp.url_prefix for side in SIDES}


def name_field(side: str) -> str:
    """Return the side's name for the customer/recipient field."""
    return columns(side)["customer_name"]


def order_body(side: str, **overrides) -> dict:
    """Return a valid create body for one side, with a fresh order number."""
    body = {
        "order_number": f"T-{uuid4().hex[:12]}",
        name_field(side): "Ada Lovelace",
        "shipping_address": "12 Analytical Way, London",
        "items": [{"sku": "ENGINE-1", "quantity": 2}],
    }
    return body | overrides


class Tokens:
    """Bearer tokens of the stack's `admin` user per side, fetched on demand and refreshed."""

    _cache: dict[str, str] = {}

    @classmethod
    def headers(cls, side: str, refresh: bool = False) -> dict:
        """Return the Authorization header for one side."""
        if refresh or side not in cls._cache:
            response = requests.post(
                f"{topology.app_url(side)}/api/v1/auth/token",
                json={"username": "admin", "password": admin_password()[0]},
                timeout=10,
            )
            response.raise_for_status()
            cls._cache[side] = response.json()["access_token"]
        return {"Authorization": f"Bearer {cls._cache[side]}"}


def authed_session(side: str) -> requests.Session:
    """A requests session that sends the admin's token of one side."""
    session = requests.Session()
    session.headers.update(Tokens.headers(side))
    return session
