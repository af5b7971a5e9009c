"""Tokens and roles on both APIs: the 401/403/429 matrix, expiry, forgery, disabled users."""

import base64
import json
import uuid
from datetime import timedelta

import jwt as pyjwt
import pytest
from flask_jwt_extended import create_access_token

from bench.client import PATHS, order_body
from ordersync.auth.tokens import issue_token
from ordersync.web.extensions import db
from tests.support.apps import add_user, bearer
from tests.support.web import PASSWORD

TOKEN_URL = "/api/v1/auth/token"


def endpoints(side: str, order_id: str):
    """(method, path, body) for every order endpoint."""
    item = f"{PATHS[side]}/{order_id}"
    return [
        ("get", PATHS[side], None),
        ("post", PATHS[side], order_body(side)),
        ("get", item, None),
        ("put", item, order_body(side)),
        ("patch", item, {"notes": "x"}),
        ("delete", item, None),
    ]


@pytest.fixture
def order_id(client, side):
    """An existing order."""
    return client.post(PATHS[side], json=order_body(side)).json["id"]


def call(client, method, path, body, headers):
    """Send one request."""
    return getattr(client, method)(path, json=body, headers=headers)


def test_every_order_endpoint_needs_a_token(anonymous, side, order_id):
    for method, path, body in endpoints(side, order_id):
        response = call(anonymous, method, path, body, {})
        assert response.status_code == 401, (method, path)
        assert response.headers["WWW-Authenticate"].startswith("Bearer")
        assert response.json["code"] == 401


@pytest.mark.parametrize("role", ["viewer", "editor", "admin"])
def test_roles_decide_reads_and_writes(anonymous, side, order_id, tokens, role):
    for method, path, body in endpoints(side, order_id):
        response = call(anonymous, method, path, body, bearer(tokens[role]))
        may = method == "get" or role != "viewer"
        assert (response.status_code < 400) == may, (role, method, path, response.json)
        if not may:
            assert response.status_code == 403
            assert "editor" in response.json["message"]


def test_token_endpoint_issues_a_working_bearer_token(anonymous, side):
    response = anonymous.post(TOKEN_URL, json={"username": "editor", "password": PASSWORD})
    assert response.status_code == 200
    body = response.json
    assert body["token_type"] == "Bearer" and body["expires_in"] > 0
    listed = anonymous.get(PATHS[side], headers=bearer(body["access_token"]))
    assert listed.status_code == 200


def test_wrong_password_and_unknown_user_get_the_same_401(anonymous, side):
    wrong = anonymous.post(TOKEN_URL, json={"username": "editor", "password": "nope"})
    unknown = anonymous.post(TOKEN_URL, json={"username": "nobody", "password": "nope"})
    assert wrong.status_code == unknown.status_code == 401
    assert wrong.json == unknown.json
    assert "access_token" not in wrong.json


def test_token_request_is_validated(anonymous, side):
    response = anonymous.post(TOKEN_URL, json={"username": "editor"})
    assert response.status_code == 422
    assert "password" in response.json["errors"]["json"]


def test_repeated_failures_are_throttled(anonymous, side):
    for _ in range(5):
        wrong = anonymous.post(TOKEN_URL, json={"username": "editor", "password": "y"})
        assert wrong.status_code == 401
    blocked = anonymous.post(TOKEN_URL, json={"username": "editor", "password": PASSWORD})
    assert blocked.status_code == 429
    assert blocked.json["code"] == 429
    assert int(blocked.headers["Retry-After"]) > 0


def test_successful_logins_are_not_throttled(anonymous, side):
    for _ in range(8):
        ok = anonymous.post(TOKEN_URL, json={"username": "viewer", "password": PASSWORD})
        assert ok.status_code == 200


def test_expired_token_is_401(anonymous, side, app):
    token = create_access_token(identity="editor", expires_delta=timedelta(seconds=-1))
    response = anonymous.get(PATHS[side], headers=bearer(token))
    assert response.status_code == 401
    assert "expired" in response.json["message"]


def forged(app, **claims) -> str:
    """A token for `admin` signed with a key the server does not have."""
    payload = {"sub": "admin", "type": "access", "fresh": False, "jti": str(uuid.uuid4())} | claims
    return pyjwt.encode(payload, "not-the-server-key-" * 3, algorithm="HS256")


def unsigned(payload: dict) -> str:
    """A token with alg=none and no signature."""

    def part(obj):
        return base64.urlsafe_b64encode(json.dumps(obj).encode()).decode().rstrip("=")

    return f"{part({'alg': 'none', 'typ': 'JWT'})}.{part(payload)}."


def test_forged_and_unsigned_tokens_are_401(anonymous, side, app):
    claims = {"sub": "admin", "type": "access", "fresh": False, "jti": "x"}
    for token in (forged(app), unsigned(claims), "not.a.token", ""):
        response = anonymous.get(PATHS[side], headers=bearer(token))
        assert response.status_code == 401, token
        assert response.headers["WWW-Authenticate"].startswith("Bearer")


@pytest.mark.parametrize("header", ["Bearer", "Token abc", "Basic YWRtaW46eA==", "bearer"])
def test_malformed_authorization_header_is_401(anonymous, side, header):
    response = anonymous.get(PATHS[side], headers={"Authorization": header})
    assert response.status_code == 401


def test_disabled_users_tokens_stop_working_at_once(anonymous, side, app):
    name = f"temp-{uuid.uuid4().hex[:6]}"
    user = add_user(name, "editor")
    token = issue_token(user)
    assert anonymous.get(PATHS[side], headers=bearer(token)).status_code == 200
    user.active = False
    db.session.commit()
    assert anonymous.get(PATHS[side], headers=bearer(token)).status_code == 401
    login = anonymous.post(TOKEN_URL, json={"username": name, "password": PASSWORD})
    assert login.status_code == 401


def test_role_changes_end_existing_tokens(anonymous, side, app):
    name = f"temp-{uuid.uuid4().hex[:6]}"
    user = add_user(name, "editor")
    token = issue_token(user)
    user.role = "viewer"
    db.session.commit()
    response = anonymous.post(PATHS[side], json=order_body(side), headers=bearer(token))
    assert response.status_code == 401
    fresh = issue_token(user)
    response = anonymous.post(PATHS[side], json=order_body(side), headers=bearer(fresh))
    assert response.status_code == 403


@pytest.mark.parametrize("path", ["/healthz", "/readyz", "/api/openapi.json", "/api/docs"])
def test_probes_and_docs_stay_public(anonymous, side, path):
    assert anonymous.get(path).status_code == 200


def test_openapi_declares_the_bearer_scheme(anonymous, side):
    spec = anonymous.get("/api/openapi.json").json
    assert spec["components"]["securitySchemes"]["bearerAuth"]["scheme"] == "bearer"
    assert spec["security"] == [{"bearerAuth": []}]
    assert spec["paths"][TOKEN_URL]["post"]["security"] == []
