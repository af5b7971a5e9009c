"""Dead letters that are durable before any offset moves past them."""

import base64
import json
from datetime import UTC, datetime

from connectors.sink.failures import DeadLetterUnavailable

PENDING, DELIVERED, FAILED = "pending", "delivered", "failed"


def record(message, reason: str, error: BaseException, order_id: str | None) -> bytes:
    """Render the dead-letter record of one message: why, where from, and the original value."""
    value = message.value()
    try:
        text, raw = (value.decode("utf-8"), None) if value is not None else (None, None)
    except UnicodeDecodeError:
        text, raw = None, base64.b64encode(value).decode()
    return json.dumps(
        {
            "reason": reason,
            "error": str(error).strip()[:2000],
            "topic": message.topic(),
            "partition": message.partition(),
            "offset": message.offset(),
            "order_id": order_id,
            "dead_lettered_at": datetime.now(UTC).isoformat(timespec="milliseconds"),
            "event": text,
            "event_base64": raw,
        }
    ).encode()


class DeadLetters:
    """Produces dead letters and tells whether every one of them was confirmed by the broker.

    A record still in flight after a failed confirmation is not produced again when the batch
    is retried, so a broker outage does not duplicate dead letters.
    """

    def __init__(self, producer, topic: str):
        self.producer, self.topic = producer, topic
        self.states: dict[tuple, str] = {}

    def send(self, message, reason: str, error: BaseException, order_id: str | None) -> None:
        """Queue one message for the dead-letter topic, unless it is already queued or stored."""
        where = (message.topic(), message.partition(), message.offset())
        if self.states.get(where) in (PENDING, DELIVERED):
            return
        self.states[where] = PENDING
        self.producer.produce(
            self.topic,
            key=message.key(),
            value=record(message, reason, error, order_id),
            on_delivery=lambda err, _msg: self.delivered(where, err),
        )

    def delivered(self, where: tuple, err) -> None:
        """Note the broker's answer for one record."""
        self.states[where] = FAILED if err is not None else DELIVERED

    def confirm(self, timeout: float = 10.0) -> None:
        """Wait for every queued record; raise DeadLetterUnavailable unless all were stored."""
        if not self.states:
            return
        remaining = self.producer.flush(timeout)
        unconfirmed = [w for w, state in self.states.items() if state != DELIVERED]
        if remaining or unconfirmed:
            raise DeadLetterUnavailable(
                f"{len(unconfirmed)} dead letter(s) not confirmed by {self.topic}"
            )

    def forget(self) -> None:
        """Drop the bookkeeping once the batch's offsets are stored."""
        self.states.clear()
