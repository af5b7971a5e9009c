"""Settings fail fast in production instead of running with unsafe defaults."""

import pytest

from ordersync.settings import ServiceSettings, dev_secret
from stack import topology

GOOD = "x" * 40


def production(**env) -> dict:
    """A production environment with everything set, then the overrides."""
    return {
        "APP_ENV": "production",
        "DATABASE_URL": "postgresql://u:p@db/store",
        "SECRET_KEY": GOOD,
        "JWT_SECRET_KEY": GOOD,
    } | env


def test_complete_production_settings_load():
    settings = ServiceSettings("store", production())
    assert settings.SESSION_COOKIE_SECURE is True
    assert settings.SQLALCHEMY_DATABASE_URI.startswith("postgresql+psycopg2://")


@pytest.mark.parametrize(
    "override",
    [
        {"DATABASE_URL": ""},
        {"SECRET_KEY": ""},
        {"JWT_SECRET_KEY": dev_secret("store", "JWT_SECRET_KEY")},
        {"JWT_SECRET_KEY": "short"},
    ],
)
def test_production_refuses_missing_or_default_values(override):
    with pytest.raises(RuntimeError):
        ServiceSettings("store", production(**override))


def test_development_has_safe_local_defaults():
    settings = ServiceSettings("warehouse", {"APP_ENV": "development"})
    port = topology.DATABASES["warehouse"]
    assert settings.SQLALCHEMY_DATABASE_URI.endswith(f"127.0.0.1:{port}/warehouse")
    assert settings.SESSION_COOKIE_SECURE is False
