"""Tokens and admin sessions: one service's never open the other, and account changes end them."""

import uuid

import jwt as pyjwt
import pytest
import requests
from flask_jwt_extended import create_access_token

from bench.client import PATHS, Tokens
from ordersync import topology
from ordersync.auth.tokens import issue_token
from ordersync.auth.users import find_user
from ordersync.service.settings import token_claims
from ordersync.sync.mapping import SIDES
from ordersync.web.extensions import db
from stack.secrets import admin_password
from tests.support.apps import add_user, bearer
from tests.support.processes import users_cli
from tests.support.web import PASSWORD, TOKEN_PATH, real_sign_in, sign_in

OTHER = {"store": "warehouse", "warehouse": "store"}


def test_each_running_service_refuses_the_others_token(stack):
    for side in SIDES:
        url = topology.app_url(side) + PATHS[side]
        assert requests.get(url, headers=Tokens.headers(side), timeout=10).status_code == 200
        foreign = requests.get(url, headers=Tokens.headers(OTHER[side]), timeout=10)
        assert foreign.status_code == 401, foreign.text
        assert foreign.json()["code"] == 401


def test_issued_tokens_name_their_issuer_and_audience(anonymous, side):
    response = anonymous.post(TOKEN_PATH, json={"username": "viewer", "password": PASSWORD})
    claims = pyjwt.decode(response.json["access_token"], options={"verify_signature": False})
    assert claims["iss"] == token_claims(side)["JWT_ENCODE_ISSUER"]
    assert claims["aud"] == token_claims(side)["JWT_ENCODE_AUDIENCE"]
    assert claims["iss"] != token_claims(OTHER[side])["JWT_ENCODE_ISSUER"]


@pytest.mark.parametrize("claims", ["none", "iss only", "aud only", "other side's", "own"])
def test_tokens_without_this_services_iss_and_aud_are_refused(anonymous, app, side, claims):
    own, other = token_claims(side), token_claims(OTHER[side])
    payload = {
        "none": {},
        "iss only": {"iss": own["JWT_ENCODE_ISSUER"]},
        "aud only": {"aud": own["JWT_ENCODE_AUDIENCE"]},
        "other side's": {"iss": other["JWT_ENCODE_ISSUER"], "aud": other["JWT_ENCODE_AUDIENCE"]},
        "own": {"iss": own["JWT_ENCODE_ISSUER"], "aud": own["JWT_ENCODE_AUDIENCE"]},
    }[claims]
    response = anonymous.get(PATHS[side], headers=bearer(own_key_token(app, **payload)))
    assert response.status_code == (200 if claims == "own" else 401), response.json


def own_key_token(app, **claims) -> str:
    """A token of `editor` with its current stamp, signed with the app's own key."""
    stamp = str(find_user("editor").security_stamp)
    payload = {"sub": "editor", "type": "access", "jti": str(uuid.uuid4()), "stamp": stamp}
    return pyjwt.encode(payload | claims, app.config["JWT_SECRET_KEY"], algorithm="HS256")


@pytest.mark.parametrize("claims", [{}, {"stamp": None}, {"stamp": ""}, {"stamp": "0" * 32}])
def test_a_token_without_the_users_current_stamp_is_refused(anonymous, app, side, claims):
    token = create_access_token(identity="editor", additional_claims=claims)
    assert anonymous.get(PATHS[side], headers=bearer(token)).status_code == 401


CHANGES = {
    "password": lambda user: user.set_password("a brand new password"),
    "disable": lambda user: setattr(user, "active", False),
    "role": lambda user: setattr(user, "role", "editor"),
}


@pytest.mark.parametrize("change", CHANGES)
def test_an_account_change_ends_its_tokens_and_admin_sessions_at_once(app, side, change):
    name = f"sec-{uuid.uuid4().hex[:8]}"
    user = add_user(name, "admin")
    api, browser = app.test_client(), app.test_client()
    token = api.post(TOKEN_PATH, json={"username": name, "password": PASSWORD}).json
    assert sign_in(browser, name).status_code == 302
    assert api.get(PATHS[side], headers=bearer(token["access_token"])).status_code == 200
    assert browser.get("/admin/orders/").status_code == 200
    CHANGES[change](user)
    db.session.commit()
    assert api.get(PATHS[side], headers=bearer(token["access_token"])).status_code == 401
    assert browser.get("/admin/orders/").status_code == 302


def test_an_unchanged_account_keeps_its_token(app, side):
    user = add_user(f"sec-{uuid.uuid4().hex[:8]}", "editor")
    token = issue_token(user)
    user.role = "editor"  # the same value: nothing changed
    db.session.commit()
    assert app.test_client().get(PATHS[side], headers=bearer(token)).status_code == 200


def test_the_cli_password_change_ends_tokens(app, side):
    name = f"sec-{uuid.uuid4().hex[:8]}"
    token = issue_token(add_user(name, "viewer"))
    runner = app.test_cli_runner()
    result = runner.invoke(args=["users", "set-password", name], input="another password\n")
    assert result.exit_code == 0, result.output
    db.session.expire_all()
    assert app.test_client().get(PATHS[side], headers=bearer(token)).status_code == 401


@pytest.mark.parametrize("running_side", SIDES)
def test_a_password_change_ends_the_running_apps_tokens_and_sessions(stack, running_side):
    name, base = f"sec-{uuid.uuid4().hex[:8]}", topology.app_url(running_side)
    users_cli(running_side, "create", name, "--role", "admin", password="first password")
    try:
        login = {"username": name, "password": "first password"}
        token = requests.post(base + TOKEN_PATH, json=login, timeout=10).json()["access_token"]
        session = real_sign_in(running_side, name, "first password")
        orders = base + PATHS[running_side]
        assert requests.get(orders, headers=bearer(token), timeout=10).status_code == 200
        admin = session.get(f"{base}/admin/orders/", allow_redirects=False, timeout=10)
        assert admin.status_code == 200
        users_cli(running_side, "set-password", name, password="second password")
        assert requests.get(orders, headers=bearer(token), timeout=10).status_code == 401
        admin = session.get(f"{base}/admin/orders/", allow_redirects=False, timeout=10)
        assert admin.status_code == 302
    finally:
        users_cli(running_side, "disable", name)


def test_session_cookies_have_distinct_names_and_do_not_cross(stack):
    names = {}
    for side in SIDES:
        response = requests.get(f"{topology.app_url(side)}/admin/login", timeout=10)
        names[side] = response.cookies.keys()
    assert names == {"store": ["store_session"], "warehouse": ["warehouse_session"]}
    store = real_sign_in("store", "admin", admin_password()[0])
    carried = requests.get(
        f"{topology.app_url('warehouse')}/admin/orders/",
        cookies={"warehouse_session": store.cookies["store_session"]},
        allow_redirects=False,
        timeout=10,
    )
    assert carried.status_code == 302 and "/admin/login" in carried.headers["Location"]
