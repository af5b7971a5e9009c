"""The target database: read current states, write merged ones, all as the sink's own writer."""

import functools
import io
import json
import logging

import orjson
import psycopg2
from psycopg2.errors import UndefinedColumn
from psycopg2.extensions import TRANSACTION_STATUS_IDLE, cursor
from psycopg2.extras import Json, execute_values
from psycopg2.sql import Composable

from connectors.sink.events import checks
from connectors.sink.failures import SchemaChanged
from connectors.sink.merge import State
from ordersync.db import conflicts, rollout
from ordersync.db.roles import CONFLICT_TABLE, PURGED_TABLE, SCHEMA_TABLE, SNAPSHOT_TABLE
from ordersync.sync.fieldkinds import Items
from ordersync.sync.mapping import CLOCK_COLUMN, SYNC_COLUMN, TABLES, FieldSet

log = logging.getLogger(__name__)

STAGE = "sink_stage"
# up to this many rows go as one INSERT ... VALUES; more are COPied into the stage first (COPY is
# two round trips and the stage is truncated at commit: cheaper only for larger batches)
VALUES_ROWS = 64


COPY_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})


def copy_text(value) -> str:
    """One field of COPY's text format: \\N for NULL, t/f for booleans, escaped strings."""
    if value is None:
        return "\\N"
    if isinstance(value, bool):
        return "t" if value else "f"
    return str(value).translate(COPY_ESCAPES)


def json_text(value) -> str:
    """A JSON value as text, exactly."""
    try:
        return orjson.dumps(value).decode()
    except TypeError:  # an integer beyond 64 bits, read exactly: the standard encoder keeps it
        return json.dumps(value)


def copy_json(value) -> str:
    """A JSON value as one field of COPY's text format (JSON text holds no raw tab or newline)."""
    return json_text(value).replace("\\", "\\\\")


def sql_json(value) -> Json:
    """A JSON value as a query parameter, rendered exactly as COPY would have it."""
    return Json(value, dumps=json_text)


def copy_converter(is_json: bool):
    """The COPY text renderer of one synced field, chosen once instead of per value."""
    return copy_json if is_json else copy_text


# what a fetched row is: a locked order, a purged id, or the schema version the target syncs
ROW, PURGED, VERSION = 0, 1, 2


def uuid_array(ids) -> str:
    """A PostgreSQL array literal of canonical UUID texts: one parameter instead of one per id."""
    return "{" + ",".join(ids) + "}"


def origin_name(group_id: str) -> str:
    """Name of the replication origin that marks a sink's sessions (one per consumer group)."""
    return "cdc_" + "".join(c if c.isalnum() else "_" for c in group_id)


class BeginningCursor(cursor):
    """Opens the transaction with its first statement (psycopg2's own BEGIN is a round trip)."""

    def execute(self, query, vars=None):
        """Run the statement, after BEGIN in the same message when no transaction is open."""
        if self.connection.info.transaction_status == TRANSACTION_STATUS_IDLE:
            if isinstance(query, Composable):
                query = query.as_string(self)
            query = (b"BEGIN; " if isinstance(query, bytes) else "BEGIN; ") + query
        return super().execute(query, vars)

    def copy_expert(self, sql, file, size=8192):
        """COPY inside the transaction (opened first if none is)."""
        if self.connection.info.transaction_status == TRANSACTION_STATUS_IDLE:
            super().execute("BEGIN")
        return super().copy_expert(sql, file, size)


class Target:
    """One side's order table as the sink sees it."""

    def __init__(
        self, dsn: str, source: str, target: str, origin: str, lock_timeout_ms: int = 10_000
    ):
        self.dsn, self.source, self.target, self.origin = dsn, source, target, origin
        self.lock_timeout_ms = lock_timeout_ms
        self.table = TABLES[target]
        self.fields: FieldSet | None = None  # what the target syncs: read at connect
        self.checks = None  # the parser's checks of those fields (events.checks)
        self.conn = None
        self.has_origin = False
        self.stage_stale = True

    def use_fields(self, fields: FieldSet) -> None:
        """Derive the columns, renderers and parser checks of the field set the target syncs."""
        self.fields = fields
        self.columns = fields.columns(self.target)
        self.json_fields = {f.name for f in fields.fields if isinstance(f.kind, Items)}
        self.converters = [(n, copy_converter(n in self.json_fields)) for n in self.columns]
        self.checks = checks(fields, self.source)
        self.__dict__.pop("fetch_sql", None)
        self.stage_stale = True

    def connect(self) -> None:
        """Open the connection and mark its writes with our replication origin."""
        self.close()
        self.conn = psycopg2.connect(
            self.dsn,
            application_name=self.origin,
            connect_timeout=10,
            cursor_factory=BeginningCursor,
        )
        # transactions are opened by BeginningCursor and ended by commit() and rollback()
        self.conn.autocommit = True
        try:
            self._prepare_session()
            self._create_stage()
        except psycopg2.Error:
            self.close()  # half-prepared sessions must not be reused: the next attempt reconnects
            raise

    def _prepare_session(self) -> None:
        """Set the timeouts, the replication origin and the staging table of this session."""
        with self.conn.cursor() as cur:
            # a lock held elsewhere or a stuck statement fails the batch (and it is retried)
            # instead of hanging the direction forever
            cur.execute(
                "SELECT set_config('lock_timeout', %s, false), "
                "set_config('statement_timeout', %s, false)",
                (f"{self.lock_timeout_ms}ms", f"{max(60_000, 6 * self.lock_timeout_ms)}ms"),
            )
            self.refresh_schema(cur)
            self._setup_origin(cur)
        self.commit()

    def ensure_connected(self) -> None:
        """Reconnect when the connection was lost (a retried batch starts here)."""
        if self.conn is None or self.conn.closed:
            self.connect()
        if self.stage_stale:
            self._create_stage()

    def refresh_schema(self, cur) -> bool:
        """Read the field set the target syncs now; tell whether it changed."""
        fields = rollout.read(cur)
        if fields == self.fields:
            return False
        if self.fields is not None:
            log.warning(
                "the target moved from schema version %s to %s: its fields are now %s",
                self.fields.version,
                fields.version,
                ", ".join(fields.names),
            )
        self.use_fields(fields)
        return True

    def _setup_origin(self, cur) -> None:
        # pgoutput with origin=none then leaves our writes out of the other side's change stream
        name = self.origin
        cur.execute(
            "SELECT pg_replication_origin_create(%s) WHERE pg_replication_origin_oid(%s) IS NULL",
            (name, name),
        )
        cur.execute("SELECT pg_replication_origin_session_setup(%s)", (name,))
        self.has_origin = True

    def connected(self) -> bool:
        """Tell whether the connection is open (it may still turn out broken)."""
        return self.conn is not None and not self.conn.closed

    def close(self) -> None:
        """Close the connection if open."""
        if self.conn is not None and not self.conn.closed:
            self.conn.close()
        self.conn = None

    def drop_origin(self) -> None:
        """Forget this sink's replication origin (for short-lived groups: origins are finite)."""
        if self.conn is None or self.conn.closed or not self.has_origin:
            return
        self.rollback()
        with self.conn.cursor() as cur:
            cur.execute("SELECT pg_replication_origin_session_reset()")
            cur.execute("SELECT pg_replication_origin_drop(%s)", (self.origin,))
        self.commit()

    def begin(self):
        """Start a sink transaction (the trigger trusts the sink's role, nothing to set)."""
        return self.conn.cursor()

    def fetch(self, cur, ids: list[str]) -> tuple[dict[str, State], frozenset]:
        """Lock and return the current states of the given order ids, and which were purged.

        The live-number rule is deferred to commit, so a batch that swaps two numbers is checked
        in its end state, not row by row.
        """
        ids = uuid_array(ids)  # canonical UUIDs (the parser made them so): nothing to escape
        try:
            cur.execute(self.fetch_sql, (ids, ids))
        except UndefinedColumn:
            self.check_dropped_columns()
            raise
        states, purged = {}, set()
        for row in cur.fetchall():
            if row[-1] == PURGED:
                purged.add(row[0])
            elif row[-1] == VERSION:
                self.check_version(cur, row[0])
            else:
                values = dict(zip(self.columns, row[1:-3], strict=True))
                states[row[0]] = State(id=row[0], values=values, clock=row[-3], author=row[-2])
        return states, frozenset(purged)

    def check_version(self, cur, version: str | None) -> None:
        """Raise SchemaChanged (the batch is retried) when a migration moved the target on.

        Checked in the same statement that locks the rows: every batch after the migration's
        commit is merged with the new field set, none with the old one.
        """
        if version != str(self.fields.version) and self.refresh_schema(cur):
            raise SchemaChanged(f"the target now syncs schema version {version}")

    def check_dropped_columns(self) -> None:
        """Raise SchemaChanged when a column the statement names went with a newer version.

        A migration may drop the column of a field retired while no batch came: the statement
        then fails before its version branch runs, so the version is read on its own.
        """
        self.rollback()
        if self.refresh_schema(self.conn.cursor()):
            raise SchemaChanged(f"the target now syncs schema version {self.fields.version}")

    @functools.cached_property
    def fetch_sql(self) -> str:
        """Lock the rows by id (in id order), list purged ids and the schema version, at once."""
        select = ", ".join(f"{column} AS {name}" for name, column in self.columns.items())
        blanks = ", ".join("NULL" for _ in self.columns)
        return (
            f"SET CONSTRAINTS ALL DEFERRED; "
            f"WITH locked AS MATERIALIZED (SELECT id::text, {select}, {CLOCK_COLUMN}, "
            f"{SYNC_COLUMN} FROM {self.table} WHERE id = ANY(%s::uuid[]) ORDER BY id FOR UPDATE) "
            f"SELECT *, {ROW} FROM locked UNION ALL "
            f"SELECT id::text, {blanks}, NULL, NULL, {PURGED} FROM {PURGED_TABLE} "
            f"WHERE id = ANY(%s::uuid[]) UNION ALL "
            f"SELECT max(version)::text, {blanks}, NULL, NULL, {VERSION} FROM {SCHEMA_TABLE}"
        )

    @property
    def written_columns(self) -> list[str]:
        """The target columns the sink writes, in order."""
        return ["id", *self.columns.values(), CLOCK_COLUMN, SYNC_COLUMN]

    def _create_stage(self) -> None:
        # a per-session staging table: for large batches COPY into it beats a multi-row INSERT.
        # Made anew with each field set, outside any batch (a rolled-back batch would undo it)
        with self.conn.cursor(cursor_factory=cursor) as cur:
            cur.execute(
                f"DROP TABLE IF EXISTS pg_temp.{STAGE}; "
                f"CREATE TEMP TABLE {STAGE} ON COMMIT DELETE ROWS AS "
                f"SELECT {', '.join(self.written_columns)} FROM {self.table} WITH NO DATA"
            )
        self.stage_stale = False

    def copy_rows(self, states: list[State]) -> io.StringIO:
        """Render states in COPY's text format (exact: NULL and '' stay distinct)."""
        converters, source = self.converters, copy_text(self.source)
        rows = []
        for s in states:
            values = s.values
            fields = [s.id, *[convert(values[n]) for n, convert in converters]]
            fields += (copy_json(s.clock), source)
            rows.append("\t".join(fields))
        rows.append("")
        return io.StringIO("\n".join(rows))

    def value_rows(self, states: list[State]) -> list[tuple]:
        """States as query parameters (JSON fields adapted as COPY renders them)."""
        names, source = [(n, n in self.json_fields) for n in self.columns], self.source
        return [
            (
                s.id,
                *[sql_json(s.values[n]) if is_json else s.values[n] for n, is_json in names],
                sql_json(s.clock),
                source,
            )
            for s in states
        ]

    def write(self, cur, states: list[State]) -> None:
        """Upsert merged states: small batches in one statement, larger ones through the stage."""
        cols = ", ".join(self.written_columns)
        updates = ", ".join(f"{c} = EXCLUDED.{c}" for c in self.written_columns[1:])
        upsert = f"ON CONFLICT (id) DO UPDATE SET {updates}"
        if len(states) <= VALUES_ROWS:
            sql = f"INSERT INTO {self.table} ({cols}) VALUES %s {upsert}"
            execute_values(cur, sql, self.value_rows(states), page_size=VALUES_ROWS)
            return
        cur.copy_expert(f"COPY {STAGE} ({cols}) FROM STDIN", self.copy_rows(states))
        cur.execute(f"INSERT INTO {self.table} ({cols}) SELECT {cols} FROM {STAGE} {upsert}")

    def record_snapshots(self, cur, source: str, reads: dict[int, int]) -> int:
        """Count snapshot reads per snapshot (by its LSN); return how many snapshots began here."""
        execute_values(
            cur,
            f"INSERT INTO {SNAPSHOT_TABLE} AS s (source, lsn, records) VALUES %s "
            "ON CONFLICT (source, lsn) DO UPDATE "
            "SET records = s.records + EXCLUDED.records, last_seen = now() "
            "RETURNING xmax = 0",  # xmax 0: the row was inserted, not updated
            [(source, lsn, n) for lsn, n in sorted(reads.items())],
        )
        return sum(inserted for (inserted,) in cur.fetchall())

    def record_conflicts(self, cur, decided: list[tuple]) -> list[tuple[str, str]]:
        """Record the conflicts a batch decided, each (place, order id, Conflict), once ever.

        In the transaction that applies the batch: a retried or replayed batch meets the
        unique (order, field, versions) of a decision already recorded and adds nothing.
        Returns the (field, rule) of each decision recorded now.
        """
        return execute_values(
            cur,
            f"INSERT INTO {CONFLICT_TABLE} (order_id, field, local_value, local_version, "
            "incoming_value, incoming_version, winner, rule, source_topic, source_partition, "
            "source_offset) VALUES %s ON CONFLICT DO NOTHING RETURNING field, rule",
            [
                (order_id, c.field, sql_json(c.local_value), c.local_version)
                + (sql_json(c.incoming_value), c.incoming_version, c.winner, c.rule, *where)
                for where, order_id, c in decided
            ],
            fetch=True,
        )

    def purge_conflicts(self, days: int) -> int:
        """Delete the conflicts past retention in a transaction of their own; return how many."""
        with self.conn.cursor() as cur:
            purged = conflicts.purge(cur, days)
        self.commit()
        return purged

    def _end(self, statement: str) -> None:
        if self.conn.info.transaction_status != TRANSACTION_STATUS_IDLE:
            with self.conn.cursor() as cur:
                cur.execute(statement)

    def commit(self) -> None:
        """Commit the sink transaction (a deferred constraint may refuse it here)."""
        self._end("COMMIT")

    def rollback(self) -> None:
        """Roll back the sink transaction, if the connection still lives."""
        if self.conn is not None and not self.conn.closed:
            self._end("ROLLBACK")

    def reset(self) -> None:
        """After a failed attempt: roll back, or drop a broken connection to reconnect later."""
        try:
            self.rollback()
        except psycopg2.Error:
            self.close()
