"""Dead-letter records and replay bookkeeping (pure: no Kafka, no clock)."""

import base64
import binascii
import json
from dataclasses import dataclass
from datetime import UTC, datetime

REPLAY_HEADER = "dlq-replay"
DLQ_SUFFIX = ".dlq"


@dataclass(frozen=True)
class DeadLetter:
    """One record of a dead-letter topic: where it sits, why it failed, and the original event."""

    dlq_topic: str
    dlq_partition: int
    dlq_offset: int
    key: bytes | None
    reason: str
    error: str
    topic: str
    partition: int | None
    offset: int | None
    order_id: str | None
    dead_lettered_at: datetime | None
    original: bytes | None

    @property
    def replayable(self) -> bool:
        """Tell whether the original event is known, so it can be produced again."""
        return self.original is not None

    @property
    def origin(self) -> tuple:
        """What identifies the original message: its place, or this record's when unknown."""
        if self.topic and self.partition is not None and self.offset is not None:
            return (self.topic, self.partition, self.offset)
        return (self.dlq_topic, self.dlq_partition, self.dlq_offset)

    @property
    def source(self) -> str:
        """Where the original event was read: topic[partition]@offset."""
        partition = "?" if self.partition is None else self.partition
        offset = "?" if self.offset is None else self.offset
        return f"{self.topic}[{partition}]@{offset}"

    @property
    def position(self) -> str:
        """Where this dead letter sits: topic:partition:offset (the replay header's value)."""
        return f"{self.dlq_topic}:{self.dlq_partition}:{self.dlq_offset}"


def source_topic(dlq_topic: str) -> str:
    """The change topic a dead-letter topic belongs to."""
    return dlq_topic.removesuffix(DLQ_SUFFIX)


def replay_topic_of(dlq_topic: str) -> str:
    """Where a dead-letter topic's letters are replayed to (ordersync.sync.mapping.replay_topic)."""
    return f"{source_topic(dlq_topic)}.replay"


def original_value(record: dict) -> bytes | None:
    """The original message value: base64 when it was not UTF-8, else the event text."""
    if record.get("event_base64") is not None:
        try:
            return base64.b64decode(record["event_base64"], validate=True)
        except (binascii.Error, TypeError, ValueError):
            return None
    event = record.get("event")
    return event.encode() if isinstance(event, str) else None


def event_order_id(original: bytes | None) -> str | None:
    """The order id inside a Debezium envelope (for records older than the order_id field)."""
    try:
        envelope = json.loads(original)
        row = envelope.get("after") or envelope.get("before") or {}
        return str(row["id"]) if row.get("id") is not None else None
    except (TypeError, ValueError, AttributeError, KeyError):
        return None


def parse_time(value, fallback_ms: int | None) -> datetime | None:
    """An ISO-8601 time from the record, else the Kafka message timestamp, always in UTC."""
    if isinstance(value, str):
        try:
            parsed = datetime.fromisoformat(value)
            return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
        except ValueError:
            pass
    if fallback_ms and fallback_ms > 0:
        return datetime.fromtimestamp(fallback_ms / 1000, UTC)
    return None


def as_int(value) -> int | None:
    """An int field of the record, None when missing or not a number."""
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def load_record(value: bytes | None) -> dict:
    """The JSON object of a dead-letter value; an empty one when it is not an object."""
    try:
        record = json.loads(value) if value is not None else {}
    except ValueError:
        return {}
    return record if isinstance(record, dict) else {}


def from_message(
    position: tuple[str, int, int], key: bytes | None, value: bytes | None, timestamp_ms=None
) -> DeadLetter:
    """Read one dead-letter message (topic, partition, offset); missing fields stay empty."""
    dlq_topic, dlq_partition, dlq_offset = position
    record = load_record(value)
    original = original_value(record)
    order_id = record.get("order_id")
    error = record.get("error") or ("" if record else "not a dead-letter record")
    return DeadLetter(
        dlq_topic=dlq_topic,
        dlq_partition=dlq_partition,
        dlq_offset=dlq_offset,
        key=key,
        reason=str(record.get("reason") or "unknown"),
        error=str(error),
        topic=str(record.get("topic") or source_topic(dlq_topic)),
        partition=as_int(record.get("partition")),
        offset=as_int(record.get("offset")),
        order_id=str(order_id) if order_id is not None else event_order_id(original),
        dead_lettered_at=parse_time(record.get("dead_lettered_at"), timestamp_ms),
        original=original,
    )


def start_offset(low: int, committed: int) -> int:
    """First pending offset of a partition: after the last replay, never before the log start."""
    return max(low, committed) if committed >= 0 else low


def pending(low: int, high: int, committed: int) -> int:
    """How many dead letters of a partition arrived since the last replay."""
    return max(0, high - start_offset(low, committed))


def replay_header(letter: DeadLetter) -> tuple[str, bytes]:
    """The header a replayed event carries, naming the dead letter it came from."""
    return REPLAY_HEADER, letter.position.encode()


def next_offsets(letters: list[DeadLetter]) -> dict[int, int]:
    """Per DLQ partition, the offset to commit once these letters are replayed (last + 1)."""
    offsets: dict[int, int] = {}
    for letter in letters:
        offsets[letter.dlq_partition] = max(
            offsets.get(letter.dlq_partition, 0), letter.dlq_offset + 1
        )
    return offsets


def replay_group(dlq_topic: str) -> str:
    """The consumer group whose committed offset marks what was replayed."""
    return f"dlq-replay.{dlq_topic}"


def when(letter: DeadLetter) -> str:
    """The dead letter's time for people, in UTC."""
    if letter.dead_lettered_at is None:
        return "-"
    return letter.dead_lettered_at.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S")


def one_line(text: str, width: int) -> str:
    """Squeeze text to one line of at most `width` characters."""
    flat = " ".join(text.split())
    return flat if len(flat) <= width else flat[: width - 1] + "…"


def distinct(letters: list[DeadLetter]) -> list[DeadLetter]:
    """Each original message once, as its latest dead letter that holds it, in DLQ order.

    A batch retried after a lost confirmation, or a broker failover, can dead-letter one message
    twice; both records stay in the topic (and replayed twice would change nothing), but people
    and replays need it once.
    """
    latest: dict[tuple, DeadLetter] = {}
    for letter in letters:
        kept = latest.get(letter.origin)
        if kept is None or letter.replayable or not kept.replayable:  # keep one with its event
            latest[letter.origin] = letter
    return sorted(latest.values(), key=lambda letter: (letter.dlq_partition, letter.dlq_offset))


def table(letters: list[DeadLetter], error_width: int = 100) -> list[str]:
    """Render dead letters as aligned lines: time, reason, order id, source, error."""
    header = f"{'time (UTC)':<20}{'reason':<22}{'order id':<38}{'source':<40}error"
    lines = [header]
    for letter in letters:
        lines.append(
            f"{when(letter):<20}{letter.reason:<22}{letter.order_id or '-':<38}"
            f"{letter.source:<40}{one_line(letter.error, error_width)}"
        )
    return lines
