"""Settings both services read from the environment; production refuses unsafe defaults."""

import os
from datetime import timedelta

from stack import topology

DEV_SECRET = "dev-only-insecure-secret-change-me"


def sqlalchemy_url(url: str) -> str:
    """Pin the psycopg2 driver (SQLAlchemy 2.1 otherwise picks psycopg 3 for postgresql://)."""
    scheme, rest = url.split("://", 1)
    return f"postgresql+psycopg2://{rest}" if scheme in ("postgres", "postgresql") else url


def secret(environ, name: str, production: bool) -> str:
    """Read a secret; production refuses a missing, default or short one."""
    value = environ.get(name, "")
    if production and (not value or value == DEV_SECRET or len(value) < 32):
        raise RuntimeError(f"{name} must be set to a random string of 32+ characters in production")
    return value or DEV_SECRET


class ServiceSettings:
    """Flask config of one side; every value can be overridden by an environment variable."""

    def __init__(self, side: str, environ=os.environ):
        self.SIDE = side
        self.ENV = environ.get("APP_ENV", "development")
        production = self.ENV == "production"
        database = environ.get("DATABASE_URL")
        if production and not database:
            raise RuntimeError("DATABASE_URL must be set when APP_ENV=production")
        self.SQLALCHEMY_DATABASE_URI = sqlalchemy_url(database or topology.database_url(side))
        self.SQLALCHEMY_ENGINE_OPTIONS = {"pool_pre_ping": True, "pool_size": 5}
        self.MAX_CONTENT_LENGTH = 1024 * 1024
        self.SECRET_KEY = secret(environ, "SECRET_KEY", production)
        self.JWT_SECRET_KEY = secret(environ, "JWT_SECRET_KEY", production)
        self.JWT_ACCESS_TOKEN_EXPIRES = timedelta(
            seconds=int(environ.get("JWT_ACCESS_TOKEN_EXPIRES", 3600))
        )
        self.JWT_TOKEN_LOCATION = ["headers"]
        self.LOGIN_FAILURE_LIMIT = environ.get("LOGIN_FAILURE_LIMIT", "5 per minute")
        # per process with memory://; point it at redis:// to share counts between workers
        self.RATELIMIT_STORAGE_URI = environ.get("RATELIMIT_STORAGE_URI", "memory://")
        self.RATELIMIT_HEADERS_ENABLED = True
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
        self.PAGINATION_MAX_PAGE_SIZE = 100
        self.JSON_SORT_KEYS = False
        self.LOG_LEVEL = environ.get("LOG_LEVEL", "INFO")
        # the admin's Sync page: the sink writing into this side, and its dead letters in Kafka
        self.KAFKA_BOOTSTRAP_SERVERS = environ.get(
            "KAFKA_BOOTSTRAP_SERVERS", topology.BOOTSTRAP_SERVERS
        )
        self.SYNC_SINK_URL = environ.get(
            "SYNC_SINK_URL", f"http://{topology.HOST}:{topology.SINK_METRICS_PORTS[side]}"
        ).rstrip("/")
        self.SYNC_PROBE_TIMEOUT = float(environ.get("SYNC_PROBE_TIMEOUT", 3))
