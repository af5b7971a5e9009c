"""Waiting for the pipeline: a change arriving on a side, both sinks settling; the API client."""

from bench.client import PATHS, authed_session
from ordersync import topology
from stack.probes import wait_until
from tests.support.db import fetch_row
from tests.support.kafka import sink_caught_up


def arrives(side, order_id, **expected):
    """Wait until a side's row of the order holds the expected column values."""

    def check():
        row = fetch_row(side, order_id)
        return row if row and all(row[k] == v for k, v in expected.items()) else None

    return wait_until(check, 30, f"{side} row {order_id} with {expected}")


def settled():
    """Wait until both sinks have committed everything in their topics."""
    wait_until(lambda: sink_caught_up("store") and sink_caught_up("warehouse"), 30, "sinks")


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

    def conflicts(self, order_id) -> list[dict]:
        """GET an order's conflicts decided on this side (one page of up to 100), newest first."""
        url = f"{self.url}/{order_id}/conflicts"
        response = self.http.get(url, params={"page_size": 100}, timeout=10)
        assert response.status_code == 200, response.text
        return response.json()

    def status_of(self, order_id) -> int:
        """Return the HTTP status of a GET on the order."""
        return self.http.get(f"{self.url}/{order_id}", timeout=10).status_code
