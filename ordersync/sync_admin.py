"""The admin's Sync page: the direction writing into this side, its dead letters, and replay."""

import time
from dataclasses import dataclass, field

from confluent_kafka import KafkaException
from flask import abort, current_app, flash, redirect, request, url_for
from flask_admin import BaseView, expose
from flask_wtf.csrf import generate_csrf, validate_csrf
from wtforms.validators import ValidationError

from ordersync import sinkhealth
from ordersync.admin import signed_in_admin
from ordersync.deadletters.kafka import DeadLetterError, DeadLetterQueue
from ordersync.deadletters.records import when
from ordersync.mapping import dead_letter_topic, other

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
    return DeadLetterQueue(config["KAFKA_BOOTSTRAP_SERVERS"], topic, config["SYNC_PROBE_TIMEOUT"])


def pending() -> Pending:
    """Read the pending dead letters, newest first; Kafka being down is a state, not an error."""
    try:
        with queue() as dlq:
            return Pending(dlq.pending_count(), list(reversed(dlq.read(limit=SHOWN))))
    except (DeadLetterError, KafkaException) as error:
        return Pending(error=str(error))


def ago(timestamp: float | None) -> str:
    """A Unix time for people: UTC and how long ago."""
    if not timestamp:
        return "never"
    stamp = time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime(timestamp))
    return f"{stamp} ({time.time() - timestamp:.0f}s ago)"


class SyncView(BaseView):
    """Health of the sink writing into this side, its dead letters, and a replay button."""

    def is_accessible(self):
        """Only a signed-in admin."""
        return signed_in_admin() is not None

    def inaccessible_callback(self, name, **kwargs):
        """Send strangers to the login page."""
        return redirect(url_for("admin.login", next=request.url))

    @expose("/")
    def index(self):
        """Show each replica of the sink's health and the dead letters since the last replay."""
        side = current_app.config["SIDE"]
        config = current_app.config
        return self.render(
            "admin/sync.html",
            source=other(side),
            direction=f"sink-{other(side)}-to-{side}",
            dlq_topic=dead_letter_topic(other(side)),
            sinks=sinkhealth.probe_all(config["SYNC_SINK_URLS"], config["SYNC_PROBE_TIMEOUT"]),
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
