"""Kafka Connect's REST API takes HTTP basic credentials: CONNECT_USER and CONNECT_PASSWORD."""

import os

from ordersync.environment import BadSetting


def auth(environ=os.environ) -> tuple[str, str] | None:
    """The credentials requests sends to Connect, or None when CONNECT_USER is unset."""
    user = environ.get("CONNECT_USER", "")
    if not user:
        return None
    if not environ.get("CONNECT_PASSWORD"):
        raise BadSetting(f"CONNECT_PASSWORD must be set with CONNECT_USER={user[:64]!r}")
    return user, environ["CONNECT_PASSWORD"]
