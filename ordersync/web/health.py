"""Liveness and readiness probes."""

from flask import Blueprint
from sqlalchemy import text

from ordersync.web.extensions import db

blp = Blueprint("health", __name__)


@blp.get("/healthz")
def healthz():
    """Answer while the process is alive."""
    return {"status": "ok"}


@blp.get("/readyz")
def readyz():
    """Answer 200 when the database is reachable, 503 otherwise."""
    try:
        db.session.execute(text("SELECT 1"))
    except Exception as error:  # any failure to reach the database means not ready
        db.session.rollback()
        return {"status": "unavailable", "database": type(error).__name__}, 503
    return {"status": "ok", "database": "ok"}
