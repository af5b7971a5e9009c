"""Accounts of one service: who may read, write and administer its orders."""

import re
import uuid
from datetime import datetime

from sqlalchemy import CheckConstraint, DateTime, String, func, text
from sqlalchemy.orm import Mapped, mapped_column, validates
from werkzeug.security import check_password_hash, generate_password_hash

from ordersync.web.extensions import db

ROLES = ("viewer", "editor", "admin")
# C0 controls and DEL: no login has them, and PostgreSQL cannot even store a NUL
CONTROL_CHARACTERS = re.compile(r"[\x00-\x1f\x7f]")
# checked against when the user does not exist, so both answers take as long
_DUMMY_HASH = generate_password_hash("not a real password")


class User(db.Model):
    """A login of this service; each service keeps its own users."""

    __tablename__ = "user_account"
    __table_args__ = (CheckConstraint("role IN ('viewer', 'editor', 'admin')", name="role_check"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(16))
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    # copied into every token and admin session; a new stamp ends all of them at once
    security_stamp: Mapped[uuid.UUID] = mapped_column(
        default=uuid.uuid4, server_default=text("gen_random_uuid()")
    )

    @validates("password_hash", "role", "active")
    def rotate_stamp(self, key: str, value):
        """Give the user a new security stamp when their password, role or active flag changes."""
        if getattr(self, key) != value:
            self.security_stamp = uuid.uuid4()
        return value

    def set_password(self, password: str) -> None:
        """Store a salted scrypt hash of the password."""
        self.password_hash = generate_password_hash(password)

    def can(self, role: str) -> bool:
        """Tell whether this user's role includes `role`."""
        return self.active and ROLES.index(self.role) >= ROLES.index(role)

    def accepts(self, stamp) -> bool:
        """Tell whether a token or session carrying this stamp still speaks for the user."""
        return self.active and stamp == str(self.security_stamp)


def authenticate(username: str, password: str) -> User | None:
    """Return the active user with these credentials, or None, in the same time either way."""
    if CONTROL_CHARACTERS.search(username + password):
        check_password_hash(_DUMMY_HASH, "")
        return None
    user = db.session.scalar(db.select(User).filter_by(username=username))
    if user is None:
        check_password_hash(_DUMMY_HASH, password)
        return None
    if not check_password_hash(user.password_hash, password) or not user.active:
        return None
    return user


def find_user(username: str) -> User | None:
    """Return a user by name."""
    return db.session.scalar(db.select(User).filter_by(username=username))
