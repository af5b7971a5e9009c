"""`flask --app SIDE conflicts list|purge`: read this side's conflict log, or trim it."""

import json

import click
from flask import current_app
from flask.cli import AppGroup
from psycopg2.errors import InsufficientPrivilege

from ordersync.db import conflicts as log
from ordersync.db.conflict_table import newest_first
from ordersync.sync.mapping import columns
from ordersync.web.extensions import db

conflicts = AppGroup("conflicts", help="Read and trim the conflicts the sink decided here.")


def shown(value) -> str:
    """A value as JSON, cut short: a line per conflict."""
    text = json.dumps(value, ensure_ascii=False)
    return text if len(text) <= 40 else text[:39] + "…"


@conflicts.command("list")
@click.option("--order", "order_id", type=click.UUID, help="Only this order's conflicts.")
@click.option("--field", help="Only this field (its name as listed, or the canonical one).")
@click.option("--winner", type=click.Choice(log.WINNERS))
@click.option("--limit", type=click.IntRange(1, 10_000), default=50, show_default=True)
def list_conflicts(order_id, field, winner, limit):
    """List conflicts, newest first: when, order, field, winner, rule, local and incoming values."""
    names = columns(current_app.config["SIDE"])
    # the list shows this side's names (the warehouse's recipient_name): they filter too
    field = {column: name for name, column in names.items()}.get(field, field)
    filters = {"order_id": order_id, "field": field, "winner": winner}
    query = newest_first(**{k: v for k, v in filters.items() if v is not None}).limit(limit)
    for row in db.session.execute(query):
        click.echo(
            f"{row.decided_at:%Y-%m-%d %H:%M:%S} {row.order_id} {names.get(row.field, row.field)} "
            f"{row.winner} {row.rule} local={shown(row.local_value)}@{row.local_version} "
            f"incoming={shown(row.incoming_value)}@{row.incoming_version}"
        )


@conflicts.command("purge")
@click.option(
    "--older-than",
    type=click.IntRange(*log.RETENTION_BOUNDS),
    help="Days since the decision [default: CONFLICT_RETENTION_DAYS, 90].",
)
def purge_conflicts(older_than):
    """Delete conflicts past retention; the sink does it hourly. Needs the owner's DATABASE_URL."""
    days = older_than or current_app.config["CONFLICT_RETENTION_DAYS"]
    with db.session.connection().connection.cursor() as cur:
        try:
            purged = log.purge(cur, days)
        except InsufficientPrivilege:  # the app's own role may only read the log
            db.session.rollback()
            raise click.ClickException("purging needs the owner's role (sync_owner)") from None
    db.session.commit()
    click.echo(f"purged {purged} conflict(s) decided more than {days} days ago")
