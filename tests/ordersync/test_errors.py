"""Errors outside the happy path: unexpected exceptions and an unreachable database."""

import pytest
from werkzeug.exceptions import InternalServerError

from tests.support.db import scratch_url, sqlalchemy


@pytest.fixture
def fresh_app(side, stack):
    """A not-yet-used app of the side (routes can still be added)."""
    url = sqlalchemy(scratch_url(side))
    return __import__(side).create_app({"SQLALCHEMY_DATABASE_URI": url})


def test_unhandled_exception_is_json_500_without_trace(fresh_app):
    def explode():
        raise RuntimeError("secret internals")

    fresh_app.add_url_rule("/explode", "explode", explode)
    response = fresh_app.test_client().get("/explode")
    assert response.status_code == 500
    assert response.json == {
        "code": 500,
        "status": "Internal Server Error",
        "message": InternalServerError.description,
    }
    assert b"secret internals" not in response.data
    assert b"Traceback" not in response.data


def test_readyz_is_503_when_the_database_is_unreachable(side):
    app = __import__(side).create_app(
        {"SQLALCHEMY_DATABASE_URI": "postgresql+psycopg2://postgres:x@127.0.0.1:1/none"}
    )
    response = app.test_client().get("/readyz")
    assert response.status_code == 503
    assert response.json["status"] == "unavailable"
    assert app.test_client().get("/healthz").status_code == 200
