"""Helpers of the security tests: the running apps' addresses, admin sign-in, fresh apps."""

import pytest

from tests.support.db import scratch_url, sqlalchemy


@pytest.fixture
def build_app(side, stack):
    """Build another app of the side on its test database, with extra config."""

    def build(**config):
        url = sqlalchemy(scratch_url(side))
        return __import__(side).create_app(
            {"TESTING": True, "SQLALCHEMY_DATABASE_URI": url} | config
        )

    return build
