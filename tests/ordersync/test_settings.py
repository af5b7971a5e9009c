"""Settings fail fast in production instead of running with unsafe defaults."""

import pytest

from ordersync import topology
from ordersync.environment import BadSetting
from ordersync.service.settings import ServiceSettings, dev_secret

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


def test_the_sync_page_reads_the_sink_writing_into_this_side_by_default():
    settings = ServiceSettings("store", {"APP_ENV": "development"})
    assert settings.SYNC_SINK_URLS == (f"http://127.0.0.1:{topology.SINK_METRICS_PORTS['store']}",)
    assert settings.KAFKA_CLIENT == {"bootstrap.servers": topology.BOOTSTRAP_SERVERS}


def test_the_sync_page_settings_come_from_the_environment():
    env = {
        "SYNC_SINK_URL": "http://sink:9102/, http://sink-2:9112",
        "KAFKA_BOOTSTRAP_SERVERS": "kafka:29092",
        "KAFKA_USERNAME": "app-warehouse",
        "KAFKA_PASSWORD": "pw",
    }
    env |= {"APP_ENV": "development"}
    settings = ServiceSettings("warehouse", env | {"SYNC_PROBE_TIMEOUT": "0.5"})
    assert settings.SYNC_SINK_URLS == ("http://sink:9102", "http://sink-2:9112")
    assert settings.KAFKA_CLIENT == {
        "bootstrap.servers": "kafka:29092",
        "security.protocol": "SASL_PLAINTEXT",
        "sasl.mechanism": "SCRAM-SHA-512",
        "sasl.username": "app-warehouse",
        "sasl.password": "pw",
    }
    assert settings.SYNC_PROBE_TIMEOUT == 0.5


def test_a_kafka_login_without_its_password_stops_the_app_by_name():
    env = {"APP_ENV": "development", "KAFKA_USERNAME": "app-store"}
    with pytest.raises(BadSetting, match="KAFKA_PASSWORD must be set"):
        ServiceSettings("store", env)
    with pytest.raises(BadSetting, match="KAFKA_CA_FILE="):
        ServiceSettings("store", {"APP_ENV": "development", "KAFKA_CA_FILE": "/nowhere/ca.pem"})


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("JWT_ACCESS_TOKEN_EXPIRES", "abc"),
        ("JWT_ACCESS_TOKEN_EXPIRES", "0"),
        ("JWT_ACCESS_TOKEN_EXPIRES", "-60"),
        ("TRUSTED_PROXIES", "-1"),
        ("TRUSTED_PROXIES", "1.5"),
        ("TRUSTED_PROXIES", "99"),
        ("SYNC_PROBE_TIMEOUT", "nan"),
        ("SYNC_PROBE_TIMEOUT", "inf"),
        ("SYNC_PROBE_TIMEOUT", "0"),
        ("SYNC_SINK_URL", "sink:9102"),
        ("SYNC_SINK_URL", "ftp://sink:9102"),
        ("SYNC_SINK_URL", "http://sink:9102,"),
        ("SYNC_SINK_URL", "http://sink:9102, javascript:alert(1)"),
    ],
)
def test_a_number_it_cannot_run_with_is_refused_by_name(name, value):
    with pytest.raises(BadSetting, match=f"^{name}="):
        ServiceSettings("store", production(**{name: value}))


def test_numbers_in_range_are_read():
    env = production(JWT_ACCESS_TOKEN_EXPIRES="900", TRUSTED_PROXIES="2", SYNC_PROBE_TIMEOUT="")
    settings = ServiceSettings("store", env)
    assert settings.JWT_ACCESS_TOKEN_EXPIRES.total_seconds() == 900
    assert settings.TRUSTED_PROXIES == 2
    assert settings.SYNC_PROBE_TIMEOUT == 3.0  # empty: the default
