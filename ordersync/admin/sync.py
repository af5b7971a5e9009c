"""The admin's Sync page: the direction writing into this side, its schema, dead letters, replay."""

import time
from dataclasses import dataclass, field

from confluent_kafka import KafkaException
from flask import abort, current_app, flash, redirect, request, url_for
from flask_admin import BaseView, expose
from flask_wtf.csrf import generate_csrf, validate_csrf
from sqlalchemy.exc import SQLAlchemyError
from wtforms.validators import ValidationError

from ordersync.admin.dashboard import AdminsOnly, signed_in_admin
from ordersync.db import rollout
from ordersync.kafka.access import sink_group
from ordersync.kafka.deadletters.queue import DeadLetterError, DeadLetterQueue
from ordersync.kafka.deadletters.records import distinct, when
from ordersync.sync import sinkhealth
from ordersync.sync.mapping import LATEST, VERSIONS, FieldSet, dead_letter_topic, other
from ordersync.sync.sinkhealth import EVENT_LACKS, LEFT_ALONE_MINUTES, LeftAlone
from ordersync.web.extensions import db

SHOWN = 100  # newest dead letters listed on the page; `make dlq` lists them all


@dataclass
class Pending:
    """Dead letters since the last replay: how many, the newest few, or why they are unknown."""

    count: int | None = None
    letters: list = field(default_factory=list)
    error: str = ""


def queue() -> DeadLetterQueue:
    """The dead-letter topic of the direction writing into this side."""
    config = current_app.config
    topic = dead_letter_topic(other(config["SIDE"]))
    return DeadLetterQueue(config["KAFKA_CLIENT"], topic, config["SYNC_PROBE_TIMEOUT"])


def pending() -> Pending:
    """Read the pending dead letters, newest first; Kafka being down is a state, not an error."""
    try:
        with queue() as dlq:
            newest = distinct(dlq.read(limit=SHOWN))
            return Pending(dlq.pending_count(), list(reversed(newest)))
    except (DeadLetterError, KafkaException) as error:
        return Pending(error=str(error))


# fields some declared version synced: one the latest does not is retired
EVER_DECLARED = frozenset(f.name for step in VERSIONS for f in step.add)


@dataclass
class SchemaStatus:
    """This side's field set (or why it is unknown), the sink's version, and notes for people."""

    own: FieldSet | None
    error: str
    sink_version: str
    notes: list[str]
    state: str  # in step, mid-rollout, or unknown


def own_schema() -> tuple[FieldSet | None, str]:
    """Read the field set this side's database syncs; a database it cannot read is a state."""
    try:
        # a connection of its own: a failure leaves the request's session untouched
        with db.engine.connect() as conn, conn.connection.cursor() as cur:
            return rollout.read(cur), ""
    except (SQLAlchemyError, db.engine.dialect.loaded_dbapi.Error, rollout.NoSchema) as error:
        return None, str(error).strip()


# what a field the sink left alone means, by case: the note for people, and whether it is
# mid-rollout (the sink remembers fields for a while: some cases are over by the time they show)
FIELD_NOTES = {
    "source behind": (
        "Events from the {source} lack {name}, which this side syncs: the {source} has not "
        "migrated to it yet (make migrate SIDE={source}).",
        True,
    ),
    "no longer lacking": (
        "Events from the {source} lacked {name} while this side synced it; it no longer does.",
        False,
    ),
    "synced now": ("Events from the {source} carried {name} before this side synced it.", False),
    "this side behind": (
        "Events from the {source} carry {name}, which this side does not sync yet: "
        "migrate this side (make migrate SIDE={side}).",
        True,
    ),
    "retired here": (
        "Events from the {source} still carry {name}, which this side no longer syncs: "
        "the {source} has not migrated yet (make migrate SIDE={source}).",
        True,
    ),
    "undeclared": (
        "Events from the {source} carry {name}, which this code does not declare: the "
        "{source} runs a newer schema; deploy that code here, then migrate this side.",
        True,
    ),
}


def field_case(own: FieldSet | None, left: LeftAlone) -> str:
    """Which of FIELD_NOTES explains a field the sink left alone."""
    synced = None if own is None else left.field in own.names
    if left.why == EVENT_LACKS:
        return "no longer lacking" if synced is False else "source behind"
    if synced:
        return "synced now"
    if left.field in LATEST.names:
        return "this side behind"
    return "retired here" if left.field in EVER_DECLARED else "undeclared"


def field_note(side: str, own: FieldSet | None, left: LeftAlone) -> tuple[str, bool]:
    """Say why the sink left one field alone and what to do; tell whether that is mid-rollout."""
    text, mid = FIELD_NOTES[field_case(own, left)]
    return text.format(side=side, source=other(side), name=left.field), mid


def version_note(side: str, own: FieldSet) -> tuple[str, bool]:
    """Compare this side's schema version with the code's; tell whether a migration is due."""
    if own.version < LATEST.version:
        return (
            f"This side syncs schema version {own.version}, this code declares "
            f"{LATEST.version}: migrate this side (make migrate SIDE={side}).",
            True,
        )
    if own.version > LATEST.version:
        # the sink and the trigger follow the database: only this app's own pages lag behind
        return (
            f"This side's database syncs schema version {own.version}, newer than this app's "
            f"code declares ({LATEST.version}): deploy the code that declares it.",
            False,
        )
    return "", False


def sink_schemas(sinks) -> list[sinkhealth.SinkSchema]:
    """What each replica that answered says of its schema."""
    return [s.schema for s in sinks if s.available and s.schema is not None]


def sink_version(sinks) -> str:
    """The schema version(s) the sink's replicas write with, in words."""
    if not any(s.available for s in sinks):
        return "unavailable"
    schemas = sink_schemas(sinks)
    if not schemas:
        return "not reported"
    versions = sorted({s.version for s in schemas if s.version is not None})
    if not versions:
        return "none yet (no batch since it started)"
    return f"version{'s' if len(versions) > 1 else ''} {', '.join(map(str, versions))}"


def stale_sink_note(own: FieldSet, schemas) -> str:
    """Say when a replica last wrote with another version than this side syncs now."""
    versions = sorted({s.version for s in schemas if s.version not in (None, own.version)})
    if not versions:
        return ""
    return (
        f"The sink last wrote with schema version {', '.join(map(str, versions))}; it reads "
        f"this side's version {own.version} with its next batch."
    )


def in_step_note(side: str) -> str:
    """What the page can say when it sees no rollout (it sees this side and its sink only)."""
    return (
        f"Both sides appear to agree on the synced fields: no event from the {other(side)} in "
        f"the last {LEFT_ALONE_MINUTES} minutes carried a field this side lacks or lacked one "
        f"it syncs (make status compares both databases)."
    )


def unknown_sink_note(side: str, sinks) -> str:
    """Say why the sink's view of the other side's fields is missing."""
    if any(s.available for s in sinks):
        return "The sink does not report its schema (its /healthz carries none)."
    return f"The sink is unavailable: whether events from the {other(side)} differ is unknown."


def schema_status(side: str, own: FieldSet | None, error: str, sinks) -> SchemaStatus:
    """Put this side's schema, the code's and the sink's report together for the page."""
    schemas = sink_schemas(sinks)
    left = sorted({item for s in schemas for item in s.left_alone}, key=lambda i: (i.field, i.why))
    found = [field_note(side, own, item) for item in left]
    notes, mid = [note for note, _ in found], any(m for _, m in found)
    if own is not None:
        version, behind = version_note(side, own)
        mid = mid or behind
        notes = [n for n in (version, stale_sink_note(own, schemas)) if n] + notes
    if not schemas:
        notes.append(unknown_sink_note(side, sinks))
    if mid:
        state = "mid-rollout"
    elif own is None or not schemas:
        state = "unknown"
    else:
        state = "in step"
        notes.append(in_step_note(side))
    return SchemaStatus(own, error, sink_version(sinks), notes, state)


def ago(timestamp: float | None) -> str:
    """A Unix time for people: UTC and how long ago."""
    if not timestamp:
        return "never"
    stamp = time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime(timestamp))
    return f"{stamp} ({time.time() - timestamp:.0f}s ago)"


class SyncView(AdminsOnly, BaseView):
    """Health of the sink writing into this side, its dead letters, and a replay button."""

    @expose("/")
    def index(self):
        """Show the sink's health per replica, the schema, and the dead letters since replay."""
        side = current_app.config["SIDE"]
        config = current_app.config
        sinks = sinkhealth.probe_all(config["SYNC_SINK_URLS"], config["SYNC_PROBE_TIMEOUT"])
        return self.render(
            "admin/sync.html",
            side=side,
            source=other(side),
            direction=sink_group(other(side)),
            dlq_topic=dead_letter_topic(other(side)),
            sinks=sinks,
            schema=schema_status(side, *own_schema(), sinks),
            declared=LATEST.version,
            pending=pending(),
            shown=SHOWN,
            ago=ago,
            when=when,
            csrf_token=generate_csrf(),
        )

    @expose("/replay", methods=("POST",))
    def replay(self):
        """Replay the pending dead letters (a POST with the CSRF token), then show the page."""
        try:
            validate_csrf(request.form.get("csrf_token", ""))
        except ValidationError:
            abort(400, description="The form's CSRF token is missing or invalid.")
        try:
            with queue() as dlq:
                result = dlq.replay()
        except (DeadLetterError, KafkaException) as error:
            flash(f"Replay failed, nothing was marked replayed: {error}", "error")
            return redirect(url_for(".index"))
        current_app.logger.info(
            "dead letters replayed",
            extra={"user": signed_in_admin().username, "replayed": len(result.replayed)},
        )
        flash(replayed_message(result), "success")
        return redirect(url_for(".index"))


def replayed_message(result) -> str:
    """What a replay did, for the flash message."""
    message = f"Replayed {len(result.replayed)} dead letter(s) through the normal merge."
    if result.unreplayable:
        message += f" {len(result.unreplayable)} had no original event and were skipped."
    return message


def register_sync_page(admin) -> None:
    """Add the Sync page to the dashboard."""
    admin.add_view(SyncView(name="Sync", endpoint="sync", url="/admin/sync"))
