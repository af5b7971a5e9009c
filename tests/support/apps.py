"""In-process apps on the test databases: migrated as the owner, with a user per role."""

from flask_migrate import upgrade
from werkzeug.security import generate_password_hash

from ordersync.auth.users import ROLES, User
from ordersync.db.roles import OWNER
from ordersync.web.extensions import db
from stack import provision
from tests.support.db import scratch_url, sqlalchemy
from tests.support.web import PASSWORD


def migrate_test_database(side: str) -> None:
    """Bring `<side>_test` to head as the owner, then grant each role its privileges."""
    factory = __import__(side).create_app
    owner = factory(
        {"TESTING": True, "SQLALCHEMY_DATABASE_URI": sqlalchemy(scratch_url(side, OWNER.name))}
    )
    with owner.app_context():
        upgrade()
        db.session.execute(db.text("TRUNCATE user_account, purged_order"))
        db.session.commit()
        db.session.remove()
    provision.grant(side, f"{side}_test")


def make_app(side: str):
    """Build one side's app on its migrated test database, connected as the app's role."""
    migrate_test_database(side)
    url = scratch_url(side)
    app = __import__(side).create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": sqlalchemy(url)})
    with app.app_context():
        for role in ROLES:
            add_user(role, role)
        db.session.remove()
    return app, url


def add_user(username: str, role: str, active: bool = True) -> User:
    """Add a user with the test password (inside an app context)."""
    user = User(username=username, role=role, active=active)
    # a cheap hash: the suite signs in thousands of times; the apps hash with werkzeug's default
    # scrypt, and a check costs what the stored hash says
    user.password_hash = generate_password_hash(PASSWORD, method="pbkdf2:sha256:1000")
    db.session.add(user)
    db.session.commit()
    return user


def bearer(token: str) -> dict:
    """The Authorization header for a token."""
    return {"Authorization": f"Bearer {token}"}
