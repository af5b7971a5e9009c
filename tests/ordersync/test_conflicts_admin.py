"""The admin's conflicts: each order's section, and the list with its filters."""

import json
import uuid
from datetime import UTC, datetime, timedelta

import pytest

from bench.client import PATHS, order_body
from ordersync.sync.mapping import columns
from tests.ordersync.test_conflicts_api import record
from tests.support.web import sign_in


@pytest.fixture
def admin_client(app):
    """A browser-like client signed in as admin."""
    client = app.test_client()
    assert sign_in(client, "admin").status_code == 302
    return client


def create(client, side) -> dict:
    """POST a valid order and return it."""
    response = client.post(PATHS[side], json=order_body(side))
    assert response.status_code == 201, response.json
    return response.json


def days_ago(days: int) -> str:
    """A date as the filter's date inputs send it."""
    return (datetime.now(UTC) - timedelta(days=days)).strftime("%Y-%m-%d")


def test_an_orders_page_shows_its_conflicts(client, admin_client, side):
    order = create(client, side)
    record(side, order["id"], "status")
    record(
        side,
        order["id"],
        "customer_name",
        winner="incoming",
        local_version=4,
        incoming_version=5,
        local_value=json.dumps("Ann"),
        incoming_value=json.dumps("Bo"),
    )
    page = admin_client.get(f"/admin/orders/details/?id={order['id']}")
    assert page.status_code == 200
    assert 'id="conflicts"' in page.text
    assert page.text.count('class="conflict"') == 2
    assert f'data-field="{columns(side)["customer_name"]}" data-winner="incoming"' in page.text
    assert "&#34;shipped&#34;" in page.text or '"shipped"' in page.text
    # the edit page too: where a losing value is made to win
    edit = admin_client.get(f"/admin/orders/edit/?id={order['id']}")
    assert edit.status_code == 200 and edit.text.count('class="conflict"') == 2


def test_an_order_without_conflicts_says_so(client, admin_client, side):
    order = create(client, side)
    page = admin_client.get(f"/admin/orders/details/?id={order['id']}")
    assert 'id="no-conflicts"' in page.text


def test_the_list_filters_by_field_winner_time_and_order(admin_client, side):
    first, second = str(uuid.uuid4()), str(uuid.uuid4())
    record(side, first, "status", days_ago=10)
    record(side, first, "notes", winner="incoming", local_version=3, incoming_version=3)
    record(side, second, "status", local_version=5, incoming_version=5)

    def shown(**query) -> int:
        page = admin_client.get("/admin/conflicts/", query_string=query)
        assert page.status_code == 200
        return page.text.count('class="conflict"')

    assert shown() == 3
    assert shown(field="status") == 2
    assert shown(winner="incoming") == 1
    assert shown(order=first) == 2
    assert shown(order="not-an-id") == 0
    assert shown(since=days_ago(1)) == 2
    assert shown(until=days_ago(5)) == 1


def test_a_filter_it_cannot_read_is_said_not_dropped(admin_client, side):
    record(side, str(uuid.uuid4()), "status")
    asked = {"field": "colour", "winner": "nobody", "since": "yesterday", "order": "not-an-id"}
    page = admin_client.get("/admin/conflicts/", query_string=asked)
    assert page.status_code == 200
    for name in asked:
        assert f"Filter not applied: {name}:" in page.text, name


def test_the_list_is_for_admins_only(app, anonymous):
    response = anonymous.get("/admin/conflicts/")
    assert response.status_code == 302 and "/admin/login" in response.headers["Location"]


def test_a_page_past_the_end_is_empty_not_an_error(admin_client, side):
    record(side, str(uuid.uuid4()), "status")
    for page in (2, 10**20):  # an absurd page number never reaches OFFSET
        response = admin_client.get("/admin/conflicts/", query_string={"page": page})
        assert response.status_code == 200
        assert 'id="no-conflicts"' in response.text and "1 conflict(s)" in response.text
