"""Dead letters that are durable before any offset moves past them."""

import base64
import json
from datetime import UTC, datetime

from confluent_kafka import KafkaException

from connectors.sink.failures import DeadLetterUnavailable

PENDING, DELIVERED, FAILED = "pending", "delivered", "failed"
# Kafka refuses records over 1 MB by default; an original this large is described, not copied
MAX_ORIGINAL_BYTES = 256 * 1024


def record(message, reason: str, error: BaseException, order_id: str | None) -> bytes:
    """Render the dead-letter record of one message: why, where from, and the original value."""
    value = message.value()
    size = len(value) if value is not None else 0
    text = raw = None
    if value is not None and size <= MAX_ORIGINAL_BYTES:
        try:
            text = value.decode("utf-8")
        except UnicodeDecodeError:
            raw = base64.b64encode(value).decode()
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
            "event_size": size,
        }
    ).encode()


class DeadLetters:
    """Produces dead letters and tells whether every one of them was confirmed by the broker.

    A record still in flight after a failed confirmation is not produced again when the batch
    is retried, so a broker outage does not duplicate dead letters.
    """

    def __init__(self, producer, topic: str, remember: int = 100_000):
        self.producer, self.topic = producer, topic
        self.states: dict[tuple, str] = {}
        # places stored in earlier batches: a partition lost and read again from its committed
        # offset brings them back, and they must not be dead-lettered twice
        self.stored: dict[tuple, None] = {}
        self.remember = remember

    def send(self, message, reason: str, error: BaseException, order_id: str | None) -> None:
        """Queue one message for the dead-letter topic, unless it is already queued or stored."""
        where = (message.topic(), message.partition(), message.offset())
        if self.states.get(where) in (PENDING, DELIVERED) or where in self.stored:
            return
        try:
            self.producer.produce(
                self.topic,
                key=message.key(),
                value=record(message, reason, error, order_id),
                on_delivery=lambda err, _msg: self.delivered(where, err),
            )
        except (BufferError, KafkaException) as refused:  # queue full, or refused at once
            self.states[where] = FAILED
            raise DeadLetterUnavailable(f"{self.topic} refused a dead letter: {refused}") from None
        self.states[where] = PENDING

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
        """Drop the bookkeeping once the batch's offsets are stored; remember what was stored."""
        for where, state in self.states.items():
            if state == DELIVERED:
                self.stored[where] = None
        while len(self.stored) > self.remember:
            del self.stored[next(iter(self.stored))]  # the oldest first
        self.states.clear()
