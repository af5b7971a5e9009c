"""Commands both services offer under `flask --app SIDE ...`."""

import click
from flask import current_app
from flask.cli import AppGroup
from sqlalchemy import text

from ordersync.extensions import db
from ordersync.mapping import TABLES

orders = AppGroup("orders", help="Inspect this side's orders.")


@orders.command("count")
def count_orders():
    """Print how many live and tombstoned orders this side holds."""
    table = TABLES[current_app.config["SIDE"]]
    live, deleted = db.session.execute(
        text(
            "SELECT count(*) FILTER (WHERE NOT deleted), count(*) FILTER (WHERE deleted) "
            f"FROM {table}"
        )
    ).one()
    click.echo(f"{table}: {live} live, {deleted} deleted")


def register_shared_commands(app) -> None:
    """Add the shared command groups to an app."""
    app.cli.add_command(orders)
