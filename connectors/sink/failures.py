"""What a failure means for the events that met it: sorted by SQLSTATE, not by exception class."""

import enum

import psycopg2

from ordersync.db.rollout import NoSchema


class Failure(enum.Enum):
    """How the sink reacts to one kind of failure."""

    # the database or Kafka is briefly unable: retry the whole batch soon, never dead-letter
    TRANSIENT = "transient"
    # this event's data is refused: isolate it and dead-letter it alone
    DATA = "data"
    # schema or privileges do not fit (a migration, a revoked grant): pause, retry slowly
    SCHEMA = "schema"


class DeadLetterUnavailable(RuntimeError):
    """The dead-letter topic did not confirm a record, so no offset may move past it."""


class SchemaChanged(RuntimeError):
    """A migration moved the target to another field set: merge the batch again with it."""


# SQLSTATE classes (first two characters) and codes; see PostgreSQL's errcodes appendix
TRANSIENT_CLASSES = {"08", "53", "57", "58", "40"}  # connection, resources, operator, system, tx
TRANSIENT_CODES = {"55P03", "25006", "55006", "55000"}  # lock timeout, read-only, in use, state
DATA_CLASSES = {"22", "23", "54"}  # data exception, integrity violation, program limit


def classify(error: BaseException) -> Failure:
    """Sort an exception raised while applying events into how the sink must react."""
    if isinstance(error, DeadLetterUnavailable | SchemaChanged):
        return Failure.TRANSIENT
    if isinstance(error, NoSchema):
        # the target's own declaration is missing or broken: no event is to blame
        return Failure.SCHEMA
    if not isinstance(error, psycopg2.Error):
        # our own parsing, mapping or merging refused this input
        return Failure.DATA
    code = error.pgcode or ""
    if not code:
        # no SQLSTATE: the connection broke, or the client could not render this event
        broken = isinstance(error, psycopg2.OperationalError | psycopg2.InterfaceError)
        return Failure.TRANSIENT if broken else Failure.DATA
    if code in TRANSIENT_CODES or code[:2] in TRANSIENT_CLASSES:
        return Failure.TRANSIENT
    if code[:2] in DATA_CLASSES:
        return Failure.DATA
    # 42 (undefined column, insufficient privilege), 0A, XX and anything unknown: never drop
    return Failure.SCHEMA
