"""Settings both services read from the environment; anything but development fails closed."""

import os
from datetime import timedelta

from ordersync import topology
from ordersync.db.conflicts import RETENTION_BOUNDS, RETENTION_DAYS
from ordersync.environment import UnsafeSettings, URLList, seconds, setting, whole
from ordersync.kafka.client import client_settings

# the only values of APP_ENV that may run with the development secrets below
DEVELOPMENT = ("development", "test")
DEV_SECRET_PREFIX = "dev-only-insecure-"


def sqlalchemy_url(url: str) -> str:
    """Pin the psycopg2 driver (SQLAlchemy 2.1 otherwise picks psycopg 3 for postgresql://)."""
    scheme, rest = url.split("://", 1)
    return f"postgresql+psycopg2://{rest}" if scheme in ("postgres", "postgresql") else url


def dev_secret(side: str, name: str) -> str:
    """The development value of a secret: known to everyone, different per side and per key."""
    return f"{DEV_SECRET_PREFIX}{side}-{name.lower().replace('_', '-')}"


def secret(environ, name: str, side: str) -> str:
    """Read a secret; outside development refuse a missing, development or short one."""
    value = environ.get(name, "")
    env = environ.get("APP_ENV", "")
    if env in DEVELOPMENT:
        return value or dev_secret(side, name)
    if len(value) < 32 or value.startswith(DEV_SECRET_PREFIX):
        raise UnsafeSettings(
            f"{name} must be set to a random string of 32+ characters: APP_ENV is {env!r}, and "
            f"only APP_ENV={' or '.join(DEVELOPMENT)} may run with development secrets"
        )
    return value


def token_claims(side: str) -> dict:
    """Issuer and audience of one side's tokens, so neither service accepts the other's."""
    issuer = f"cdc-order-sync/{side}"
    return {
        "JWT_ENCODE_ISSUER": issuer,
        "JWT_DECODE_ISSUER": issuer,
        "JWT_ENCODE_AUDIENCE": f"{issuer}/api",
        "JWT_DECODE_AUDIENCE": f"{issuer}/api",
    }


class ServiceSettings:
    """Flask config of one side; every value can be overridden by an environment variable."""

    def __init__(self, side: str, environ=os.environ):
        self.SIDE = side
        self.ENV = environ.get("APP_ENV", "")
        production = self.ENV not in DEVELOPMENT
        database = environ.get("DATABASE_URL")
        if production and not database:
            raise UnsafeSettings(f"DATABASE_URL must be set when APP_ENV is {self.ENV!r}")
        self.SQLALCHEMY_DATABASE_URI = sqlalchemy_url(
            database or topology.database_url(side, "sync_app", "")
        )
        # no pre-ping per checkout: ordersync.db.pooling pings only connections that sat idle
        self.SQLALCHEMY_ENGINE_OPTIONS = {"pool_size": 5, "pool_recycle": 1800}
        self.MAX_CONTENT_LENGTH = 1024 * 1024
        self.SECRET_KEY = secret(environ, "SECRET_KEY", side)
        self.JWT_SECRET_KEY = secret(environ, "JWT_SECRET_KEY", side)
        self.JWT_ACCESS_TOKEN_EXPIRES = timedelta(
            seconds=setting(environ, "JWT_ACCESS_TOKEN_EXPIRES", whole(1, 31 * 86400), 3600)
        )
        self.JWT_TOKEN_LOCATION = ["headers"]
        for key, value in token_claims(side).items():
            setattr(self, key, value)
        self.LOGIN_FAILURE_LIMIT = environ.get("LOGIN_FAILURE_LIMIT", "5 per minute")
        # per process with memory://; point it at redis:// to share counts between workers
        self.RATELIMIT_STORAGE_URI = environ.get("RATELIMIT_STORAGE_URI", "memory://")
        self.RATELIMIT_HEADERS_ENABLED = True
        # how many proxies in front set X-Forwarded-*; 0 trusts none (a client could forge them)
        self.TRUSTED_PROXIES = setting(environ, "TRUSTED_PROXIES", whole(0, 10), 0)
        # both services may share a host name: distinct names keep their cookies apart
        self.SESSION_COOKIE_NAME = f"{side}_session"
        self.SESSION_COOKIE_HTTPONLY = True
        self.SESSION_COOKIE_SAMESITE = "Lax"
        self.SESSION_COOKIE_SECURE = production
        self.PERMANENT_SESSION_LIFETIME = timedelta(hours=8)
        self.API_TITLE = f"{side.capitalize()} orders API"
        self.API_VERSION = "v1"
        self.OPENAPI_VERSION = "3.0.3"
        self.OPENAPI_URL_PREFIX = "/api"
        self.OPENAPI_JSON_PATH = "openapi.json"
        self.OPENAPI_SWAGGER_UI_PATH = "/docs"
        self.OPENAPI_SWAGGER_UI_URL = "/api/swagger-ui/"
        self.LOG_LEVEL = environ.get("LOG_LEVEL", "INFO")
        # how long the sink keeps a recorded conflict (the sink reads the same variable)
        self.CONFLICT_RETENTION_DAYS = setting(
            environ, "CONFLICT_RETENTION_DAYS", whole(*RETENTION_BOUNDS), RETENTION_DAYS
        )
        # the admin's Sync page: the sink writing into this side, and its dead letters in Kafka
        # (as this side's own Kafka principal: KAFKA_USERNAME, KAFKA_PASSWORD, KAFKA_CA_FILE)
        self.KAFKA_CLIENT = client_settings(environ)
        # every replica of that sink, comma-separated: each has its own partitions and health
        default = f"http://{topology.HOST}:{topology.SINK_METRICS_PORTS[side]}"
        self.SYNC_SINK_URLS = setting(environ, "SYNC_SINK_URL", URLList(), (default,))
        self.SYNC_PROBE_TIMEOUT = setting(environ, "SYNC_PROBE_TIMEOUT", seconds(0.01, 60), 3.0)
