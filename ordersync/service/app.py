"""The registration steps of both app factories, so each reads like a table of contents."""

from flask import Blueprint, Flask
from flask_smorest import Api
from swagger_ui_bundle import swagger_ui_path
from werkzeug.middleware.proxy_fix import ProxyFix

from ordersync.admin import conflicts, dashboard, sync
from ordersync.auth import tokens
from ordersync.auth.accounts import register_accounts
from ordersync.db import MIGRATIONS
from ordersync.db.pooling import ping_after_idle
from ordersync.web import errors, health
from ordersync.web.extensions import db, jwt, limiter, migrate
from ordersync.web.observability import json_logging, register_observability
from ordersync.web.parsing import StrictJSONProvider

BEARER_SCHEME = {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}


def register_extensions(app) -> None:
    """Bind the database, migrations, tokens and the login throttle to the app."""
    db.init_app(app)
    with app.app_context():
        ping_after_idle(db.engine)
    # one migration history for both sides: the schema evolves symmetrically by design
    migrate.init_app(app, db, directory=str(MIGRATIONS))
    jwt.init_app(app)
    limiter.init_app(app)
    register_accounts(app)


def register_proxies(app) -> None:
    """Believe X-Forwarded-For/-Proto/-Host only from as many proxies as TRUSTED_PROXIES says."""
    hops = app.config["TRUSTED_PROXIES"]
    if hops:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops)


def register_blueprints(app, orders_blueprint) -> Api:
    """Mount the health probes, the documented and protected order API, and the admin."""
    app.register_blueprint(health.blp)
    # Swagger UI's assets from the swagger-ui-bundle wheel: /api/docs works offline too
    app.register_blueprint(
        Blueprint(
            "swagger_ui", __name__, static_folder=swagger_ui_path, static_url_path="/api/swagger-ui"
        )
    )
    api = Api(
        app,
        spec_kwargs={
            "info": {"description": f"Orders of the {app.config['SIDE']}."},
            "security": [{"bearerAuth": []}],
        },
    )
    api.spec.components.security_scheme("bearerAuth", BEARER_SCHEME)
    api.register_blueprint(tokens.blp)
    api.register_blueprint(orders_blueprint)
    return api


def register_errorhandlers(app) -> None:
    """Answer every error as JSON."""
    errors.register_errorhandlers(app)


def register_logging(app) -> None:
    """Log JSON lines to stderr, where supervisord (or docker) picks them up."""
    if not app.testing:
        json_logging(app.config["LOG_LEVEL"])


def build_app(side: str, parts, test_config: dict | None = None):
    """Assemble one side's app from its parts (blueprint, model, schema, commands)."""
    from ordersync.service.settings import ServiceSettings

    app = Flask(side)
    app.json = StrictJSONProvider(app)
    app.config.from_object(ServiceSettings(side))
    app.config.from_mapping(test_config or {})
    register_logging(app)
    register_proxies(app)
    register_extensions(app)
    register_observability(app)
    register_blueprints(app, parts.resources.blp)
    admin = dashboard.register_admin(app, parts.model, parts.schema)
    sync.register_sync_page(admin)
    conflicts.register_conflicts_page(admin)
    register_errorhandlers(app)
    parts.cli.register_commands(app)
    return app
