"""Verified tokens are remembered per process, only where they were verified, until expiry."""

import time
from types import SimpleNamespace

from flask_jwt_extended import JWTManager, create_access_token

from bench.client import PATHS
from ordersync.web import extensions
from ordersync.web.extensions import jwt
from tests.support.apps import bearer
from tests.support.web import PASSWORD, TOKEN_PATH

OTHER = {"store": "warehouse", "warehouse": "store"}


def token_of(app, role: str = "editor") -> str:
    """A fresh token of a test user of the app."""
    login = {"username": role, "password": PASSWORD}
    return app.test_client().post(TOKEN_PATH, json=login).json["access_token"]


def test_a_token_remembered_by_one_service_is_still_refused_by_the_other(apps, side):
    app, other = apps[side][0], apps[OTHER[side]][0]
    token = token_of(app)
    assert app.test_client().get(PATHS[side], headers=bearer(token)).status_code == 200
    with other.app_context():
        refused = other.test_client().get(PATHS[OTHER[side]], headers=bearer(token))
    assert refused.status_code == 401


def test_a_remembered_token_with_another_signature_is_refused(app, side):
    token = token_of(app)
    client = app.test_client()
    assert client.get(PATHS[side], headers=bearer(token)).status_code == 200
    head, payload, signature = token.split(".")
    forged = f"{head}.{payload}.{signature[::-1]}"
    assert client.get(PATHS[side], headers=bearer(forged)).status_code == 401


def test_a_remembered_token_is_verified_again_once_expired(app, side, monkeypatch):
    token = token_of(app)
    client = app.test_client()
    assert client.get(PATHS[side], headers=bearer(token)).status_code == 200
    verified = []
    decode = JWTManager._decode_jwt_from_config

    def counting(self, *args, **kwargs):
        verified.append(args[0])
        return decode(self, *args, **kwargs)

    monkeypatch.setattr(JWTManager, "_decode_jwt_from_config", counting)
    assert client.get(PATHS[side], headers=bearer(token)).status_code == 200
    assert verified == []  # remembered
    later = time.time() + 7200
    monkeypatch.setattr(extensions, "time", SimpleNamespace(time=lambda: later))
    client.get(PATHS[side], headers=bearer(token))
    assert verified == [token]  # past its exp: checked in full again


def test_a_token_without_expiry_is_not_remembered(app, side):
    with app.app_context():
        token = create_access_token(identity="editor", expires_delta=False)
    app.test_client().get(PATHS[side], headers=bearer(token))
    assert not any(key[0] == token for key in jwt.verified)
