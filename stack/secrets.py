"""Secrets of the dev stack: made once, kept in .stack/ (git-ignored), never in code."""

import json
import os
import secrets

from stack import topology as t

SECRETS_FILE = t.STATE / "secrets.json"
ADMIN_PASSWORD_FILE = t.STATE / "admin-password"


def write_private(path, text: str) -> None:
    """Write a file only its owner can read."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(text)


def app_secrets() -> dict[str, str]:
    """Return the apps' SECRET_KEY and JWT_SECRET_KEY, generating them the first time."""
    if SECRETS_FILE.exists():
        return json.loads(SECRETS_FILE.read_text())
    values = {"SECRET_KEY": secrets.token_urlsafe(48), "JWT_SECRET_KEY": secrets.token_urlsafe(48)}
    write_private(SECRETS_FILE, json.dumps(values))
    return values


def admin_password() -> tuple[str, bool]:
    """Return the admin password (SYNC_ADMIN_PASSWORD, stored or generated) and whether new."""
    if os.environ.get("SYNC_ADMIN_PASSWORD"):
        return os.environ["SYNC_ADMIN_PASSWORD"], False
    if ADMIN_PASSWORD_FILE.exists():
        return ADMIN_PASSWORD_FILE.read_text().strip(), False
    password = secrets.token_urlsafe(16)
    write_private(ADMIN_PASSWORD_FILE, password + "\n")
    return password, True
