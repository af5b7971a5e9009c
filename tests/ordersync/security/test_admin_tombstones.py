"""The admin never opens a deleted order: list, details, edit and delete by id are 404 or hidden."""

import uuid

import pytest

from bench.client import PATHS, order_body
from tests.support.db import fetch_row
from tests.support.web import csrf_token, sign_in


@pytest.fixture
def admin_client(app):
    """A browser-like client signed in as admin."""
    client = app.test_client()
    assert sign_in(client, "admin").status_code == 302
    return client


@pytest.fixture
def orders(client, side):
    """A live order and a deleted one."""
    live = client.post(PATHS[side], json=order_body(side)).json
    gone = client.post(PATHS[side], json=order_body(side)).json
    assert client.delete(f"{PATHS[side]}/{gone['id']}").status_code == 204
    return live, gone


@pytest.mark.parametrize("view", ["details", "edit"])
def test_a_deleted_order_is_a_404_where_a_live_one_opens(admin_client, orders, view):
    live, gone = orders
    opened = admin_client.get(f"/admin/orders/{view}/", query_string={"id": live["id"]})
    assert opened.status_code == 200 and live["order_number"] in opened.text
    refused = admin_client.get(f"/admin/orders/{view}/", query_string={"id": gone["id"]})
    assert refused.status_code == 404
    assert gone["order_number"] not in refused.text


@pytest.mark.parametrize("order_id", ["not-a-uuid", str(uuid.uuid4()), ""])
def test_unknown_or_malformed_ids_are_404(admin_client, order_id):
    response = admin_client.get("/admin/orders/details/", query_string={"id": order_id})
    assert response.status_code in (302, 404)  # no id at all: back to the list
    if order_id:
        assert response.status_code == 404


def test_a_deleted_order_cannot_be_saved_or_deleted_again(admin_client, orders, side, test_db):
    live, gone = orders
    token = csrf_token(admin_client.get("/admin/orders/").text)
    form = {"order_number": "REVIVED", "status": "pending", "csrf_token": token}
    saved = admin_client.post(f"/admin/orders/edit/?id={gone['id']}", data=form)
    assert saved.status_code == 404
    deleted = admin_client.post(
        "/admin/orders/delete/", data={"id": gone["id"], "csrf_token": token}
    )
    assert deleted.status_code == 404
    row = fetch_row(side, gone["id"], test_db)
    assert row["deleted"] is True and row["order_number"] == gone["order_number"]


def test_the_list_hides_deleted_orders(admin_client, orders):
    live, gone = orders
    page = admin_client.get("/admin/orders/").text
    assert live["order_number"] in page and gone["order_number"] not in page
