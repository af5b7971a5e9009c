"""Alembic environment of both services: one migration history, run against the app's database."""

import logging

from alembic import context
from flask import current_app

from ordersync.db import schema_guard

log = logging.getLogger("alembic.env")


def run() -> None:
    """Run the migrations offline (emit SQL) or online against the app's database."""
    config = context.config
    db = current_app.extensions["migrate"].db
    url = db.engine.url.render_as_string(hide_password=False).replace("%", "%%")
    config.set_main_option("sqlalchemy.url", url)
    if context.is_offline_mode():
        context.configure(url=url, target_metadata=db.metadata, literal_binds=True)
        with context.begin_transaction():
            context.run_migrations()
        return
    # a statement that would break the sync contract is refused before PostgreSQL sees it
    side = current_app.config["SIDE"]
    with db.engine.connect() as connection, schema_guard.guarding(connection, side):
        context.configure(connection=connection, target_metadata=db.metadata)
        with context.begin_transaction():
            context.run_migrations()


run()
