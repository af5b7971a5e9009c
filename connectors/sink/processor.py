"""The decisions of one batch: parse, apply (isolating what is refused), dead-letter.

No Kafka consumer here: messages only need value(), key(), topic(), partition() and offset(),
so every decision is unit-tested with fakes. The poll loop calls `process` and retries it as a
whole on the failures it raises (see failures.py); a batch that returns is fully accounted for.
"""

from dataclasses import dataclass, field

import psycopg2

from connectors.sink.events import parse
from connectors.sink.failures import Failure, classify
from connectors.sink.merge import plan_batch


@dataclass
class BatchReport:
    """What one batch did: each applied or skipped event with its outcome, and dead letters."""

    outcomes: list = field(default_factory=list)  # ((message, event), Outcome)
    dead_letters: list = field(default_factory=list)  # reasons, one per dead-lettered message
    kafka_tombstones: int = 0
    rows_written: int = 0

    @property
    def messages(self) -> int:
        """How many messages this report accounts for."""
        return len(self.outcomes) + len(self.dead_letters) + self.kafka_tombstones


class Processor:
    """Applies batches of one side's change events to the other side's database."""

    def __init__(self, source: str, target_side: str, target, dead_letters):
        self.source, self.target_side = source, target_side
        self.target, self.dead_letters = target, dead_letters

    def process(self, messages: list) -> BatchReport:
        """Handle a batch; raise (for a retry of the whole batch) on anything but bad data."""
        report = BatchReport()
        events = []
        for message in messages:
            try:
                event = parse(self.source, message.value())
            except Exception as error:  # any failure to parse is this message's alone
                self.dead_letter(report, message, "invalid-event", error, None)
                continue
            if event is None:
                report.kafka_tombstones += 1
                continue
            events.append((message, event))
        if events:
            self.target.ensure_connected()
            self.apply_isolating(events, report)
        self.dead_letters.confirm()
        return report

    def apply_isolating(self, events: list, report: BatchReport) -> None:
        """Apply events in one transaction; if their data is refused, bisect to the guilty ones.

        Halves are applied in source order, so every commit reaches a state the source side
        itself went through (a swap of two order numbers stays valid however it is split).
        """
        try:
            self.apply(events, report)
            return
        except Exception as error:  # sorted below: only bad data is isolated here
            self.target.rollback()
            if classify(error) is not Failure.DATA:
                raise
            if len(events) == 1:
                message, event = events[0]
                reason = (
                    "rejected-by-database" if isinstance(error, psycopg2.Error) else "merge-failed"
                )
                self.dead_letter(report, message, reason, error, event.state.id)
                return
        middle = len(events) // 2
        self.apply_isolating(events[:middle], report)
        self.apply_isolating(events[middle:], report)

    def apply(self, events: list, report: BatchReport) -> None:
        """Merge the events into the locked current rows, write the changed ones, commit."""
        cur = self.target.begin()
        states = [event.state for _, event in events]
        current, purged = self.target.fetch(cur, sorted({s.id for s in states}))
        writes, outcomes = plan_batch(states, current, self.source, self.target_side, purged)
        if writes:
            self.target.write(cur, list(writes.values()))
        self.target.commit()
        report.outcomes.extend(zip(events, outcomes, strict=True))
        report.rows_written += len(writes)

    def dead_letter(self, report, message, reason: str, error, order_id) -> None:
        """Send one message to the dead-letter topic and account for it."""
        self.dead_letters.send(message, reason, error, order_id)
        report.dead_letters.append(reason)
