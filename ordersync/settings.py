"""Settings both services read from the environment; production refuses unsafe defaults."""

import os

from stack import topology


def sqlalchemy_url(url: str) -> str:
    """Pin the psycopg2 driver (SQLAlchemy 2.1 otherwise picks psycopg 3 for postgresql://)."""
    scheme, rest = url.split("://", 1)
    return f"postgresql+psycopg2://{rest}" if scheme in ("postgres", "postgresql") else url


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
        self.API_TITLE = f"{side.capitalize()} orders API"
        self.API_VERSION = "v1"
        self.OPENAPI_VERSION = "3.0.3"
        self.OPENAPI_URL_PREFIX = "/api"
        self.OPENAPI_JSON_PATH = "openapi.json"
        self.OPENAPI_SWAGGER_UI_PATH = "/docs"
        self.OPENAPI_SWAGGER_UI_URL = "https://cdn.jsdelivr.net/npm/swagger-ui-dist/"
        self.PAGINATION_MAX_PAGE_SIZE = 100
        self.JSON_SORT_KEYS = False
