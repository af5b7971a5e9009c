"""Commands both services offer under `flask --app SIDE ...`."""

import sys

import click
from flask import current_app
from flask.cli import AppGroup
from sqlalchemy import text

from ordersync.auth.users import ROLES, User, find_user
from ordersync.service.conflicts_cli import conflicts
from ordersync.sync.mapping import TABLES
from ordersync.web.extensions import db

orders = AppGroup("orders", help="Inspect this side's orders.")
users = AppGroup("users", help="Manage this service's logins.")


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


@orders.command("purge")
@click.option("--older-than", type=int, default=30, show_default=True, help="Days since deletion.")
def purge_orders(older_than):
    """Delete tombstoned orders for good; run with the owner role's DATABASE_URL."""
    table = TABLES[current_app.config["SIDE"]]
    is_owner = db.session.execute(
        text(
            "SELECT pg_get_userbyid(relowner) = current_user FROM pg_class "
            "WHERE oid = CAST(:table AS regclass)"
        ),
        {"table": table},
    ).scalar()
    if not is_owner:
        raise click.ClickException("purging needs the table owner's role (sync_owner)")
    purged = db.session.execute(
        text(
            f"DELETE FROM {table} WHERE deleted "
            "AND updated_at < now() - make_interval(days => :days) RETURNING id"
        ),
        {"days": older_than},
    ).all()
    db.session.commit()
    click.echo(f"purged {len(purged)} deleted orders of {table}; their ids stay in purged_order")


def read_password() -> str:
    """Prompt on a terminal; otherwise read one line from standard input."""
    if sys.stdin.isatty():
        return click.prompt("Password", hide_input=True, confirmation_prompt=True)
    password = sys.stdin.readline().rstrip("\n")
    if not password:
        raise click.ClickException("no password on standard input")
    return password


def existing(username: str) -> User:
    """Return a user or stop with an error."""
    user = find_user(username)
    if user is None:
        raise click.ClickException(f"no user named {username!r}")
    return user


@users.command("create")
@click.argument("username")
@click.option("--role", type=click.Choice(ROLES), default="viewer", show_default=True)
@click.option("--exist-ok", is_flag=True, help="Do nothing if the user already exists.")
def create_user(username, role, exist_ok):
    """Create a user; the password comes from the prompt or standard input."""
    if find_user(username) is not None:
        if exist_ok:
            click.echo(f"user {username} already exists")
            return
        raise click.ClickException(f"user {username!r} already exists")
    if not 1 <= len(username) <= 64:
        raise click.ClickException("a username has 1 to 64 characters")
    user = User(username=username, role=role, active=True)
    user.set_password(read_password())
    db.session.add(user)
    db.session.commit()
    click.echo(f"created {role} {username}")


@users.command("list")
def list_users():
    """List users with their role and state."""
    for user in db.session.scalars(db.select(User).order_by(User.username)):
        state = "active" if user.active else "disabled"
        click.echo(f"{user.username:<32} {user.role:<8} {state:<9} {user.created_at:%Y-%m-%d}")


@users.command("set-role")
@click.argument("username")
@click.argument("role", type=click.Choice(ROLES))
def set_role(username, role):
    """Change a user's role."""
    existing(username).role = role
    db.session.commit()
    click.echo(f"{username} is now {role}")


@users.command("set-password")
@click.argument("username")
def set_password(username):
    """Change a user's password (prompt or standard input)."""
    existing(username).set_password(read_password())
    db.session.commit()
    click.echo(f"password of {username} changed")


@users.command("disable")
@click.argument("username")
def disable(username):
    """Disable a user: their tokens and sessions stop working at once."""
    existing(username).active = False
    db.session.commit()
    click.echo(f"{username} disabled")


@users.command("enable")
@click.argument("username")
def enable(username):
    """Enable a disabled user again."""
    existing(username).active = True
    db.session.commit()
    click.echo(f"{username} enabled")


def register_shared_commands(app) -> None:
    """Add the shared command groups to an app."""
    app.cli.add_command(orders)
    app.cli.add_command(users)
    app.cli.add_command(conflicts)
