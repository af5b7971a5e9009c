"""Odd requests: OPTIONS, hostile JSON, control characters, made-up methods, throttle keys."""

import os
import random
import string
import subprocess
import sys

import pytest
import requests

from bench.client import PATHS, Tokens, order_body
from ordersync import topology
from ordersync.sync.mapping import SIDES
from stack.topology import ROOT
from tests.support.web import PASSWORD, TOKEN_PATH, sign_in

NESTED = "[" * 100_000 + "]" * 100_000  # about 200 KB
HOSTILE_JSON = {
    "nested arrays": NESTED,
    "nested objects": '{"a":' * 40_000 + "1" + "}" * 40_000,
    "5000-digit number": '{"username": 1' + "0" * 5000 + ', "password": "x"}',
    "NaN": '{"username": NaN, "password": "x"}',
    "lone surrogate": '{"username": "\\ud800", "password": "x"}',
    "invalid UTF-8": b'{"username": "\xff", "password": "x"}',
}


def real(side: str, path: str) -> str:
    """The URL of a path on a running app."""
    return topology.app_url(side) + path


def assert_json_error(response, code: int) -> None:
    """The response is the shared JSON error shape with this code."""
    assert response.status_code == code, response.text[:300]
    body = response.json()
    assert body["code"] == code and body["status"] and body["message"]


@pytest.mark.parametrize("running_side", SIDES)
def test_options_answers_allow_without_a_token(stack, running_side):
    for path in (PATHS[running_side], f"{PATHS[running_side]}/{'0' * 8}-0000-0000-0000-{'0' * 12}"):
        response = requests.options(real(running_side, path), timeout=10)
        assert response.status_code == 200, response.text
        assert {"GET", "OPTIONS"} <= set(response.headers["Allow"].replace(" ", "").split(","))


@pytest.mark.parametrize("kind", HOSTILE_JSON)
@pytest.mark.parametrize("running_side", SIDES)
def test_hostile_json_is_a_400_in_the_usual_shape(stack, running_side, kind):
    body = HOSTILE_JSON[kind]
    headers = {"Content-Type": "application/json"}
    login = requests.post(real(running_side, TOKEN_PATH), data=body, headers=headers, timeout=30)
    assert_json_error(login, 400)
    headers |= Tokens.headers(running_side)
    create = requests.post(
        real(running_side, PATHS[running_side]), data=body, headers=headers, timeout=30
    )
    assert_json_error(create, 400)
    admin = requests.post(
        real(running_side, "/admin/login"), data=body, headers=headers, timeout=30
    )
    assert admin.status_code == 400


@pytest.mark.parametrize("body", ["[1]", "5", '"x"', "null", "{}"])
def test_a_json_body_is_no_admin_login(anonymous, body):
    response = anonymous.post("/admin/login", data=body, content_type="application/json")
    assert response.status_code == 400


CONTROLLED = ["ed\x00itor", "editor\n", "\x1b[31meditor", "editor\x7f"]


@pytest.mark.parametrize("username", CONTROLLED)
def test_control_characters_in_credentials_are_422_and_counted(anonymous, username):
    for _ in range(5):
        response = anonymous.post(TOKEN_PATH, json={"username": username, "password": "x"})
        assert response.status_code == 422
        assert "control characters" in str(response.json["errors"]["json"]["username"])
    blocked = anonymous.post(TOKEN_PATH, json={"username": username, "password": "x"})
    assert blocked.status_code == 429


def test_control_characters_in_a_password_are_422(anonymous):
    response = anonymous.post(TOKEN_PATH, json={"username": "editor", "password": "p\x00w"})
    assert response.status_code == 422
    assert "password" in response.json["errors"]["json"]


@pytest.mark.parametrize("username", CONTROLLED)
def test_control_characters_in_the_admin_form_are_401_and_counted(app, username):
    client = app.test_client()
    for _ in range(5):
        assert sign_in(client, username, "x").status_code == 401
    assert sign_in(client, username, "x").status_code == 429


def test_the_running_apps_throttle_nul_logins(stack):
    """Two server workers count apart (memory://): 11 tries must meet a 429 at the latest."""
    body = {"username": f"nul\x00{random.randrange(10**9)}", "password": "x"}
    codes = [
        requests.post(real("store", TOKEN_PATH), json=body, timeout=10).status_code
        for _ in range(11)
    ]
    assert set(codes) <= {422, 429} and 429 in codes, codes


def made_up_method() -> str:
    """A method name no server knows, new on every run."""
    return "ZQ" + "".join(random.choices(string.ascii_uppercase, k=10))


@pytest.mark.parametrize("running_side", SIDES)
def test_unknown_methods_are_405_under_one_bounded_metric_label(stack, running_side):
    methods = [made_up_method() for _ in range(3)]
    for method in methods:
        response = requests.request(method, real(running_side, PATHS[running_side]), timeout=10)
        assert_json_error(response, 405)
        assert "GET" in response.headers["Allow"]
    metrics = requests.get(real(running_side, "/metrics"), timeout=10).text
    assert 'method="other"' in metrics
    assert not any(method in metrics for method in methods)


def fail_logins(client, username: str, address: str, forwarded: str | None = None) -> None:
    """Five wrong passwords for a username from an address."""
    headers = {"X-Forwarded-For": forwarded} if forwarded else {}
    for _ in range(5):
        response = client.post(
            TOKEN_PATH,
            json={"username": username, "password": "wrong"},
            environ_overrides={"REMOTE_ADDR": address},
            headers=headers,
        )
        assert response.status_code == 401


def login(client, username: str, address: str, forwarded: str | None = None) -> int:
    """The status of a right password for a username from an address."""
    headers = {"X-Forwarded-For": forwarded} if forwarded else {}
    return client.post(
        TOKEN_PATH,
        json={"username": username, "password": PASSWORD},
        environ_overrides={"REMOTE_ADDR": address},
        headers=headers,
    ).status_code


def test_the_throttle_keys_on_username_and_address(anonymous):
    fail_logins(anonymous, "editor", "10.0.0.1")
    assert login(anonymous, "editor", "10.0.0.1") == 429
    assert login(anonymous, "viewer", "10.0.0.1") == 200
    assert login(anonymous, "editor", "10.0.0.2") == 200


def test_forwarded_headers_are_ignored_without_trusted_proxies(anonymous):
    fail_logins(anonymous, "editor", "10.0.0.1", forwarded="203.0.113.1")
    assert login(anonymous, "editor", "10.0.0.1", forwarded="203.0.113.2") == 429


def test_one_trusted_proxy_makes_the_forwarded_client_the_key(build_app):
    app = build_app(TRUSTED_PROXIES=1)
    with app.app_context():
        client = app.test_client()
        fail_logins(client, "editor", "10.0.0.1", forwarded="203.0.113.1")
        assert login(client, "editor", "10.0.0.1", forwarded="203.0.113.1") == 429
        assert login(client, "editor", "10.0.0.1", forwarded="203.0.113.2") == 200


def test_api_and_admin_sign_in_share_one_count(app):
    client = app.test_client()
    fail_logins(client, "admin", "127.0.0.1")
    assert sign_in(client, "admin").status_code == 429


def limiter_storage(environ: dict) -> str:
    """The class of the login throttle's storage in an app built with this environment."""
    code = (
        "import store; from ordersync.web.extensions import limiter; store.create_app(); "
        "print(type(limiter.storage).__name__)"
    )
    result = subprocess.run(
        [sys.executable, "-c", code],
        env=os.environ | {"APP_ENV": "test"} | environ,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


def test_ratelimit_storage_uri_reaches_the_throttle():
    assert limiter_storage({}) == "MemoryStorage"
    assert limiter_storage({"RATELIMIT_STORAGE_URI": "redis://127.0.0.1:1/0"}) == "RedisStorage"


def test_an_order_body_still_works(client, side):
    """The strict parser accepts what the API always accepted."""
    assert client.post(PATHS[side], json=order_body(side, notes="ünïcode ✓")).status_code == 201
