"""Pooled database connections, checked for liveness only after they sat idle."""

import time

from sqlalchemy import event, exc

# a connection used this recently is trusted; a dead one fails its request and is replaced
IDLE_CHECK_SECONDS = 10.0


def ping(dbapi_connection) -> None:
    """One round trip outside any transaction, so the ping leaves none open behind it."""
    previous = dbapi_connection.autocommit
    dbapi_connection.autocommit = True
    try:
        with dbapi_connection.cursor() as cursor:
            cursor.execute("SELECT 1")
    finally:
        dbapi_connection.autocommit = previous


def ping_after_idle(engine, idle: float = IDLE_CHECK_SECONDS) -> None:
    """Ping a pooled connection at checkout only when it sat idle longer than `idle` seconds.

    `pool_pre_ping` pings on every checkout: one more round trip per request. Under load a
    connection comes back within milliseconds; if the server died meanwhile, the request fails
    once, SQLAlchemy sees the disconnect and invalidates every older connection of the pool.
    """

    @event.listens_for(engine, "checkin")
    def returned(dbapi_connection, record):
        record.info["returned"] = time.monotonic()
        # a request may have run single statements in autocommit (ordersync.api.resources); a
        # connection the server dropped keeps its flag: it fails its next use and is replaced
        if dbapi_connection is not None and not dbapi_connection.closed:
            dbapi_connection.autocommit = False

    @event.listens_for(engine, "checkout")
    def checked_out(dbapi_connection, record, _proxy):
        if time.monotonic() - record.info.get("returned", time.monotonic()) <= idle:
            return
        try:
            ping(dbapi_connection)
        except engine.dialect.loaded_dbapi.Error as error:
            # the pool discards this connection and checks out (or opens) another
            raise exc.DisconnectionError() from error
