"""The admin dashboard through the test client: login, refusal, CSRF, list and edit."""

import re

import pytest
from flask import session
from flask.sessions import NullSession

from bench.client import PATHS, order_body
from ordersync.sync.mapping import TABLES, columns
from tests.support.web import PASSWORD, csrf_token, sign_in


def seen_version(html: str) -> str:
    """Pull the row version an edit form was opened at out of the rendered form."""
    return re.search(r'name="seen_version" type="hidden" value="([^"]*)"', html).group(1)


def edit_form(page, order: dict, side: str, **changes) -> dict:
    """The posted fields of an order's edit form as opened in `page`, with changes."""
    form = {name: order[name] for name in ("order_number", "shipping_address", "status")}
    form |= {
        columns(side)["customer_name"]: order[columns(side)["customer_name"]],
        "items": '[{"sku": "ENGINE-1", "quantity": 2}]',
        "csrf_token": csrf_token(page.text),
        "seen_version": seen_version(page.text),
    }
    return form | changes


@pytest.fixture
def admin_client(app):
    """A browser-like client signed in as admin."""
    client = app.test_client()
    assert sign_in(client, "admin").status_code == 302
    return client


def test_anonymous_visitors_are_sent_to_login(anonymous):
    response = anonymous.get("/admin/orders/")
    assert response.status_code == 302
    assert "/admin/login" in response.headers["Location"]


@pytest.mark.parametrize("user", ["viewer", "editor"])
def test_non_admins_are_refused(app, user):
    client = app.test_client()
    response = sign_in(client, user)
    assert response.status_code == 403
    assert "Only admin users" in response.text
    assert client.get("/admin/orders/").status_code == 302


def test_wrong_password_is_refused(app):
    assert sign_in(app.test_client(), "admin", "wrong").status_code == 401


def test_login_without_csrf_token_is_rejected(app):
    client = app.test_client()
    response = client.post("/admin/login", data={"username": "admin", "password": PASSWORD})
    assert response.status_code == 400
    assert client.get("/admin/orders/").status_code == 302


def test_session_cookie_is_http_only(app):
    response = sign_in(app.test_client(), "admin")
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie


def test_list_shows_live_orders_with_search_and_status_filter(admin_client, client, side):
    kept = client.post(PATHS[side], json=order_body(side, status="shipped")).json
    gone = client.post(PATHS[side], json=order_body(side)).json
    client.delete(f"{PATHS[side]}/{gone['id']}")
    page = admin_client.get("/admin/orders/")
    assert page.status_code == 200
    assert kept["order_number"] in page.text and gone["order_number"] not in page.text
    found = admin_client.get("/admin/orders/", query_string={"search": kept["order_number"]})
    assert kept["order_number"] in found.text


def test_edit_page_shows_sync_state_and_saves_through_the_trigger(admin_client, client, side):
    order = client.post(PATHS[side], json=order_body(side)).json
    page = admin_client.get("/admin/orders/edit/", query_string={"id": order["id"]})
    assert 'id="sync-strip"' in page.text and f">{side}<" in page.text
    assert seen_version(page.text) == "1"
    form = edit_form(
        page, order, side, items='[{"sku": "ENGINE-1", "quantity": 3}]', status="processing"
    )
    saved = admin_client.post(f"/admin/orders/edit/?id={order['id']}", data=form)
    assert saved.status_code == 302
    after = client.get(f"{PATHS[side]}/{order['id']}").json
    assert after["status"] == "processing" and after["items"][0]["quantity"] == 3
    assert after["sync"]["field_versions"]["status"] == 2


def stored(conn, side: str, order_id: str) -> dict:
    """The order's row as the database holds it (not through the app's session)."""
    with conn.cursor() as cur:
        cur.execute(f"SELECT * FROM {TABLES[side]} WHERE id = %s", (order_id,))
        return cur.fetchone()


@pytest.mark.parametrize("how", ["api", "sql"])
def test_a_stale_admin_save_is_refused_and_writes_nothing(admin_client, client, test_db, side, how):
    order = client.post(PATHS[side], json=order_body(side)).json
    url = f"/admin/orders/edit/?id={order['id']}"
    page = admin_client.get(url)
    if how == "api":
        client.patch(f"{PATHS[side]}/{order['id']}", json={"notes": "written meanwhile"})
    else:
        with test_db.cursor() as cur:
            cur.execute(
                f"UPDATE {TABLES[side]} SET notes = 'written meanwhile' WHERE id = %s",
                (order["id"],),
            )
    before = stored(test_db, side, order["id"])
    assert before["version"] == 2
    response = admin_client.post(url, data=edit_form(page, order, side, status="cancelled"))
    assert response.status_code == 200
    assert "Not saved: this order was changed since you opened it" in response.text
    after = stored(test_db, side, order["id"])
    assert after == before
    assert after["status"] == "pending" and after["notes"] == "written meanwhile"


def test_a_save_without_the_opened_version_is_refused(admin_client, client, side):
    order = client.post(PATHS[side], json=order_body(side)).json
    url = f"/admin/orders/edit/?id={order['id']}"
    form = edit_form(admin_client.get(url), order, side, status="cancelled", seen_version="")
    assert "Not saved" in admin_client.post(url, data=form).text
    assert client.get(f"{PATHS[side]}/{order['id']}").json["status"] == "pending"


def test_invalid_admin_edit_is_refused_with_the_field_named(admin_client, client, side):
    order = client.post(PATHS[side], json=order_body(side)).json
    page = admin_client.get("/admin/orders/edit/", query_string={"id": order["id"]})
    form = {
        "order_number": order["order_number"],
        "shipping_address": "x",
        columns(side)["customer_name"]: "Ann",
        "status": "pending",
        "items": '[{"sku": "A", "quantity": -7}]',
        "csrf_token": csrf_token(page.text),
    }
    response = admin_client.post(
        f"/admin/orders/edit/?id={order['id']}", data=form, follow_redirects=True
    )
    assert "items" in response.text
    assert client.get(f"{PATHS[side]}/{order['id']}").json["items"][0]["quantity"] == 2


def test_admin_delete_makes_a_tombstone(admin_client, client, side):
    order = client.post(PATHS[side], json=order_body(side)).json
    page = admin_client.get("/admin/orders/")
    response = admin_client.post(
        "/admin/orders/delete/", data={"id": order["id"], "csrf_token": csrf_token(page.text)}
    )
    assert response.status_code == 302
    assert client.get(f"{PATHS[side]}/{order['id']}").status_code == 404


def test_sign_out_needs_its_csrf_token(admin_client):
    page = admin_client.get("/admin/orders/")
    assert 'id="logout-form"' in page.text and ">admin<" in page.text
    assert admin_client.post("/admin/logout", data={}).status_code == 400
    assert admin_client.get("/admin/orders/").status_code == 200
    token = re.search(r'id="logout-form".*?name="csrf_token" value="([^"]+)"', page.text, re.S)
    response = admin_client.post("/admin/logout", data={"csrf_token": token.group(1)})
    assert response.status_code == 302
    assert admin_client.get("/admin/orders/").status_code == 302


def test_api_requests_open_no_cookie_session(app, admin_client, side):
    # the signed-in browser's cookie goes along, but the API neither reads nor renews it
    response = admin_client.get(PATHS[side])
    assert response.status_code == 401 and "Set-Cookie" not in response.headers
    with app.test_request_context(PATHS[side]):
        assert isinstance(session._get_current_object(), NullSession)
    with app.test_request_context("/admin/"):
        assert not isinstance(session._get_current_object(), NullSession)
