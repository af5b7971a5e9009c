"""Who a token or session speaks for, cached per process and invalidated through the database.

Rather than load its user with a query on every request, each process keeps what it needs of each
user (role, active flag, security stamp) and a listener thread, on its own connection, LISTENs
for a trigger's NOTIFY on every change to `user_account` and empties the cache. NOTIFY is
asynchronous: a change committed elsewhere reaches a worker a little later. So whoever changes a
user through this code (CLI, admin, tests) waits after committing until every listener of the
database has confirmed it emptied its cache (`confirm_invalidated`); only then does the change
count as done. While its listener is not connected, a process reads the database on every request.
"""

import logging
import select
import threading
import time
import uuid
from dataclasses import dataclass

from flask import current_app, has_app_context
from sqlalchemy import event
from sqlalchemy.orm import Session

from ordersync.auth.users import ROLES, User, find_user
from ordersync.web.extensions import db

CHANGED = "user_account_changed"
CONFIRMED = "user_account_confirmed"
# listeners take this name only once LISTEN is in effect, so every one found is listening
LISTENER = "ordersync-accounts"
RECONNECT_SECONDS = 1.0
KEEPALIVE_SECONDS = 30.0
CONFIRM_SECONDS = 5.0
MAX_ENTRIES = 10_000

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Account:
    """What authorization needs of a user, detached from any database session."""

    username: str
    role: str
    active: bool
    stamp: str

    @classmethod
    def of(cls, user: User) -> "Account":
        """Copy a user row."""
        return cls(user.username, user.role, user.active, str(user.security_stamp))

    def can(self, role: str) -> bool:
        """Tell whether this user's role includes `role`."""
        return self.active and ROLES.index(self.role) >= ROLES.index(role)

    def accepts(self, stamp) -> bool:
        """Tell whether a token or session carrying this stamp still speaks for the user."""
        return self.active and stamp == self.stamp


def connect_raw(engine, name: str):
    """A connection of its own (not from the pool), in autocommit, named in pg_stat_activity."""
    cargs, cparams = engine.dialect.create_connect_args(engine.url)
    connection = engine.dialect.loaded_dbapi.connect(
        *cargs, **(cparams | {"application_name": name})
    )
    connection.autocommit = True
    return connection


class AccountCache:
    """Accounts by username for one app in one process, emptied by its listener thread."""

    def __init__(self, app):
        self.app = app
        self.entries: dict[str, Account] = {}
        self.generation = 0
        self.listening = False
        self.lock = threading.Lock()
        self.thread: threading.Thread | None = None

    def lookup(self, username: str) -> Account | None:
        """The account of `username` from the cache, or from the database on a miss."""
        self.start()
        account = self.entries.get(username) if self.listening else None
        if account is not None:
            return account
        generation = self.generation
        user = find_user(username)
        account = Account.of(user) if user is not None else None
        with self.lock:
            # a change seen while we read may be newer than what we read: do not keep it
            if account and self.listening and generation == self.generation:
                if len(self.entries) >= MAX_ENTRIES:
                    self.entries = {}
                self.entries[username] = account
        return account

    def clear(self) -> None:
        """Forget every account, and any lookup still reading the database."""
        with self.lock:
            self.entries = {}
            self.generation += 1

    def start(self) -> None:
        """Start the listener on first use (in each server worker process: a thread per worker)."""
        if self.thread is None or not self.thread.is_alive():
            with self.lock:
                if self.thread is None or not self.thread.is_alive():
                    self.thread = threading.Thread(target=self.run, name=LISTENER, daemon=True)
                    self.thread.start()

    def run(self) -> None:
        """Listen until the process ends, reconnecting (with an empty cache) after any failure."""
        stop = threading.Event()
        while True:
            try:
                self.listen()
            except Exception as error:  # any failure: the cache can no longer be trusted
                log.warning("account listener disconnected: %s", error)
            self.listening = False
            self.clear()
            stop.wait(RECONNECT_SECONDS)

    def listen(self) -> None:
        """LISTEN, then empty the cache and confirm for every NOTIFY, in commit order."""
        with self.app.app_context():
            connection = connect_raw(db.engine, LISTENER + "-starting")
        try:
            with connection.cursor() as cursor:
                cursor.execute(f"LISTEN {CHANGED}")
                cursor.execute("SELECT set_config('application_name', %s, false)", (LISTENER,))
                self.clear()
                self.listening = True
                while True:
                    notes = received(connection, KEEPALIVE_SECONDS)
                    if notes is None:
                        cursor.execute("SELECT 1")  # a dead server shows up here at the latest
                    elif notes:
                        self.clear()
                        self.confirm(cursor, connection, notes)
        finally:
            connection.close()

    @staticmethod
    def confirm(cursor, connection, notes) -> None:
        """Tell waiting writers which of their probes this listener has seen."""
        for probe in {n.payload for n in notes if n.payload}:
            payload = f"{probe} {connection.get_backend_pid()}"
            cursor.execute("SELECT pg_notify(%s, %s)", (CONFIRMED, payload))


def received(connection, timeout: float) -> list | None:
    """Take the notifications received so far, waiting up to `timeout` for one; None if none came.

    psycopg2 also collects notifications that arrive while this connection runs a statement:
    they wait in `notifies`, not on the socket, so look there before waiting on the socket.
    """
    if not connection.notifies and not select.select([connection], [], [], timeout)[0]:
        return None
    connection.poll()
    notes = list(connection.notifies)
    del connection.notifies[: len(notes)]
    return notes


def cache() -> AccountCache:
    """The account cache of the current app."""
    return current_app.extensions["accounts"]


def find_account(username: str) -> Account | None:
    """The account of `username`, or None; from the cache when its listener is connected."""
    return cache().lookup(username)


def listeners(cursor) -> set[int]:
    """Backend pids of the account listeners connected to this database."""
    cursor.execute(
        "SELECT pid FROM pg_stat_activity "
        "WHERE datname = current_database() AND application_name = %s",
        (LISTENER,),
    )
    return {pid for (pid,) in cursor.fetchall()}


def confirm_invalidated(engine, timeout: float = CONFIRM_SECONDS) -> bool:
    """After a committed user change: wait until every listener has emptied its cache.

    A probe NOTIFY sent after the change reaches each listener after the change's own NOTIFY,
    so a listener that confirms the probe has forgotten the old account.
    """
    connection = connect_raw(engine, "ordersync-accounts-writer")
    try:
        with connection.cursor() as cursor:
            cursor.execute(f"LISTEN {CONFIRMED}")
            probe = uuid.uuid4().hex
            pending = listeners(cursor)
            cursor.execute("SELECT pg_notify(%s, %s)", (CHANGED, probe))
            return wait_for(connection, cursor, probe, pending, timeout)
    finally:
        connection.close()


def wait_for(connection, cursor, probe: str, pending: set[int], timeout: float) -> bool:
    """Collect confirmations of `probe` until none is pending; listeners that left count."""
    deadline = time.monotonic() + timeout
    while pending:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            log.warning("account listeners %s did not confirm a user change", sorted(pending))
            return False
        notes = received(connection, min(remaining, 0.5))
        if notes is None:
            pending &= listeners(cursor)
            continue
        for note in notes:
            seen, _, pid = note.payload.partition(" ")
            if seen == probe and pid.isdigit():
                pending.discard(int(pid))
    return True


@event.listens_for(Session, "after_flush")
def note_user_changes(session, _context):
    """Remember that a user row was written in this transaction."""
    if any(isinstance(o, User) for o in (*session.new, *session.dirty, *session.deleted)):
        session.info["users_changed"] = True


@event.listens_for(Session, "after_commit")
def invalidate_after_commit(session):
    """A committed user change: forget it here at once, and wait until every worker has too."""
    if not session.info.pop("users_changed", False) or not has_app_context():
        return
    accounts = current_app.extensions.get("accounts")
    if accounts is not None:
        accounts.clear()
        try:
            confirm_invalidated(db.engine)
        except db.engine.dialect.loaded_dbapi.Error as error:
            # committed all the same; the workers' listeners still get the NOTIFY
            log.warning("could not confirm a user change with the workers: %s", error)


@event.listens_for(Session, "after_rollback")
def forget_rolled_back(session):
    """A rolled-back change changed nothing."""
    session.info.pop("users_changed", None)


def register_accounts(app) -> None:
    """Give the app its account cache (its listener starts with the first lookup)."""
    app.extensions["accounts"] = AccountCache(app)
