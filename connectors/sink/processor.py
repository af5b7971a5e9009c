"""The decisions of one batch: parse, apply (isolating what is refused), dead-letter.

No Kafka consumer here: messages only need value(), key(), topic(), partition() and offset(),
so every decision is unit-tested with fakes. The poll loop calls `process` and retries it as a
whole on the failures it raises (see failures.py); a batch that returns is fully accounted for.
"""

import contextlib
import time
from collections import Counter
from dataclasses import dataclass, field

import psycopg2

from connectors.sink.events import parse
from connectors.sink.failures import Failure, classify
from connectors.sink.merge import plan_batch

# "no two live orders share a number": a change refused for it may only be waiting for its
# partner (the other half of a swap, in a later batch or on another partition), so it is parked
UNIQUENESS = {"23505", "23P01"}
# messages parsed ahead between two offers of the interpreter to the applying thread (~0.3 ms)
YIELD_EVERY = 32


def place(message) -> tuple[str, int, int]:
    """Where a message sits in Kafka: (topic, partition, offset)."""
    return (message.topic(), message.partition(), message.offset())


class Parsed(dict):
    """What parse_ahead made of messages (place -> event, None or error), and with which fields."""

    def __init__(self, fields: tuple):
        super().__init__()
        self.fields = fields


def parse_ahead(source: str, messages: list, fields: tuple) -> Parsed:
    """Parse messages before their batch: place -> event, None (a tombstone) or the error.

    Pure and free of I/O, so the loop runs it in a thread while the batch before is applied.
    `fields` is the target's parser checks at the time (a batch merged with other ones, after a
    migration, is parsed again).
    """
    parsed = Parsed(fields)
    for n, message in enumerate(messages):
        if n % YIELD_EVERY == YIELD_EVERY - 1:
            # hand the interpreter back: the applying thread, back from the database, would
            # otherwise wait out the 5 ms switch interval for it, every round trip
            time.sleep(0)
        if message.error() is None:
            try:
                parsed[place(message)] = parse(source, message.value(), fields)
            except Exception as error:  # dead-lettered with this error when its batch comes
                parsed[place(message)] = error
    return parsed


def reason_of(error: BaseException) -> str:
    """The dead-letter reason of data refused by the database or by our own code."""
    return "rejected-by-database" if isinstance(error, psycopg2.Error) else "merge-failed"


@dataclass
class BatchReport:
    """What one batch did: each applied or skipped event with its outcome, and dead letters."""

    outcomes: list = field(default_factory=list)  # ((message, event), Outcome)
    dead_letters: list = field(default_factory=list)  # reasons, one per dead-lettered message
    kafka_tombstones: int = 0
    rows_written: int = 0
    unsynced: Counter = field(default_factory=Counter)  # fields the target does not sync
    absent: Counter = field(default_factory=Counter)  # fields the target syncs, events lack
    partners_applied: int = 0  # other replicas' parked changes this batch committed with its own
    snapshot_reads: int = 0  # events of a snapshot (op "r") among the applied ones
    snapshots_begun: int = 0  # snapshots of the source whose first read this batch applied
    conflicts: Counter = field(default_factory=Counter)  # (field, rule) of decisions recorded
    seconds: float = 0.0  # how long the attempt that went through took

    @property
    def messages(self) -> int:
        """How many messages this report accounts for."""
        return len(self.outcomes) + len(self.dead_letters) + self.kafka_tombstones


class Processor:
    """Applies batches of one side's change events to the other side's database."""

    def __init__(
        self,
        source: str,
        target_side: str,
        target,
        dead_letters,
        park_seconds: float = 10.0,
        lot=None,
    ):
        self.source, self.target_side = source, target_side
        self.target, self.dead_letters = target, dead_letters
        self.park_seconds = park_seconds
        # (topic, partition, offset) -> (message, event, parked since): retried with each batch
        self.parked: dict[tuple, tuple] = {}
        # where the group's replicas show each other what they parked (None: a lone processor)
        self.lot = lot
        self.parsed_with = None  # the target's parser checks the parked changes were parsed with

    def parked_offsets(self) -> dict[tuple[str, int], int]:
        """The lowest parked offset per (topic, partition): no stored offset may pass it."""
        lowest = {}
        for topic, partition, offset in self.parked:
            lowest[(topic, partition)] = min(offset, lowest.get((topic, partition), offset))
        return lowest

    def process(self, messages: list, parsed: dict | None = None) -> BatchReport:
        """Handle a batch; raise (for a retry of the whole batch) on anything but bad data.

        `parsed` holds what `parse_ahead` made of some of the messages already.
        """
        started = time.monotonic()
        report = BatchReport()
        events = []
        self.target.ensure_connected()  # also reads the field set the target syncs
        if parsed is not None and parsed.fields is not self.target.checks:
            parsed = None
        self.reparse_parked()
        for message in messages:
            try:
                event = self.read(message, parsed or {})
            except Exception as error:  # any failure to parse is this message's alone
                self.dead_letter(report, message, "invalid-event", error, None)
                continue
            if event is None:
                report.kafka_tombstones += 1
                continue
            if event.unsynced or event.absent:  # mid-rollout: one side has fields the other lacks
                report.unsynced.update(event.unsynced)
                report.absent.update(event.absent)
            events.append((message, event))
        if events or self.parked:
            self.apply_isolating(events, report)
            self.retry_parked(report)
        self.dead_letters.confirm()
        report.seconds = time.monotonic() - started
        return report

    def read(self, message, parsed: dict):
        """The message's event, parsed ahead or now; a parse error is raised here either way."""
        where = place(message)
        if where not in parsed:
            return parse(self.source, message.value(), self.target.checks)
        if isinstance(parsed[where], Exception):
            raise parsed[where]
        return parsed[where]

    def apply_isolating(self, events: list, report: BatchReport) -> None:
        """Apply events in one transaction; if their data is refused, bisect to the guilty ones.

        Halves are applied in source order, so every commit reaches a state the source side
        itself went through (a swap of two order numbers stays valid however it is split).
        """
        error = self.attempt(events, report)
        if error is None:
            return
        if len(events) == 1:
            message, event = events[0]
            if getattr(error, "pgcode", None) in UNIQUENESS:
                self.park(message, event)
            else:
                self.dead_letter(report, message, reason_of(error), error, event.state.id)
            return
        middle = len(events) // 2
        self.apply_isolating(events[:middle], report)
        self.apply_isolating(events[middle:], report)

    def attempt(self, events: list, report: BatchReport, partners: list = ()):
        """Apply in one transaction; return the error if the data was refused, raise any other.

        A refusal is rolled back and returned for the caller to isolate, park or dead-letter;
        every other failure (transient, schema) escapes for the loop to retry the whole batch.
        """
        try:
            self.apply(events, report, partners)
        except Exception as error:  # sorted by cause: only bad data stays here
            self.target.rollback()
            if classify(error) is not Failure.DATA:
                raise
            return error
        return None

    def reparse_parked(self) -> None:
        """Parse parked changes again once a migration changed the fields the target syncs."""
        if self.parsed_with is self.target.checks:
            return
        for where, (message, event, since) in list(self.parked.items()):
            # it parsed before: should the new field set refuse it, it keeps its old parse
            with contextlib.suppress(Exception):
                event = parse(self.source, message.value(), self.target.checks) or event
            self.parked[where] = (message, event, since)
        self.parsed_with = self.target.checks

    def park(self, message, event) -> None:
        """Keep a change refused for a number clash, to retry after the changes that follow it."""
        where = (message.topic(), message.partition(), message.offset())
        since = self.parked.get(where, (None, None, time.monotonic()))[2]
        if self.lot is not None and where not in self.parked:
            self.lot.add(message)
        self.parked[where] = (message, event, since)

    def unpark(self, places: list[tuple]) -> None:
        """Take applied or dead-lettered changes out of the shared parking lot."""
        if self.lot is not None and places:
            self.lot.remove(places)

    def drop_partitions(self, partitions: set[tuple[str, int]]) -> None:
        """Forget what was parked from partitions this replica no longer owns (they move on)."""
        gone = [where for where in self.parked if where[:2] in partitions]
        for where in gone:
            del self.parked[where]
        self.unpark(gone)

    def partner_changes(self) -> list:
        """The changes other replicas parked, parsed: candidates to commit with our own."""
        if self.lot is None or not self.parked:
            return []
        partners = []
        for message in self.lot.partners(set(self.parked)):
            try:
                event = parse(self.source, message.value(), self.target.checks)
            except Exception:  # noqa: S112 - its owner dead-letters it; not ours to judge
                continue
            if event is not None:
                partners.append((message, event))
        return partners

    def retry_parked(self, report: BatchReport) -> None:
        """Retry parked changes, together, then one by one until none goes through.

        Other replicas' parked changes join each attempt first: a swap split across replicas
        commits only as a whole. A change still refused after `park_seconds` is a real clash (two
        orders given the same number on both sides): it is dead-lettered for an operator.
        """
        partners = self.partner_changes()
        if (len(self.parked) > 1 or partners) and self.apply_parked_together(report, partners):
            return
        progress = True
        while progress and self.parked:
            progress = False
            for where in sorted(self.parked):
                message, event, since = self.parked[where]
                error = self.apply_with_partners((message, event), partners, report)
                if error is None:
                    progress = True
                elif self.may_wait(error, since):
                    continue
                else:
                    self.dead_letter(report, message, reason_of(error), error, event.state.id)
                del self.parked[where]
                self.unpark([where])

    def may_wait(self, error: BaseException, since: float) -> bool:
        """Tell whether a refused parked change may wait longer for its partner."""
        waiting = getattr(error, "pgcode", None) in UNIQUENESS
        return waiting and time.monotonic() - since < self.park_seconds

    def apply_with_partners(self, change: tuple, partners: list, report: BatchReport):
        """Apply one parked change with the other replicas' parked ones, else alone.

        Returns the refusal of the last try, None once applied.
        """
        if partners and self.attempt([change], report, partners) is None:
            self.unpark([place(m) for m, _ in partners])
            return None
        return self.attempt([change], report)

    def apply_parked_together(self, report: BatchReport, partners: list) -> bool:
        """Apply every parked change in one transaction: the halves of a swap need each other."""
        waiting = [self.parked[where][:2] for where in sorted(self.parked)]
        if self.attempt(waiting, report, partners) is not None:
            return False
        self.unpark(sorted(self.parked) + [place(m) for m, _ in partners])
        self.parked.clear()
        return True

    def apply(self, events: list, report: BatchReport, partners: list = ()) -> None:
        """Merge the events into the locked current rows, write the changed ones, commit.

        Partners (other replicas' parked changes) are merged and written in the same
        transaction, but accounted for by the replica that owns them.
        """
        cur = self.target.begin()
        everything = [*events, *partners]
        states = [event.state for _, event in everything]
        current, purged = self.target.fetch(cur, sorted({s.id for s in states}))
        writes, outcomes = plan_batch(
            states, current, self.source, self.target_side, purged, self.target.fields
        )
        if writes:
            self.target.write(cur, list(writes.values()))
        decided = [
            (place(message), event.state.id, conflict)
            for (message, event), outcome in zip(everything, outcomes, strict=True)
            for conflict in outcome.conflicts
        ]
        recorded = []
        if decided:  # recorded with the rows they decided: a retried batch records them once
            recorded = self.target.record_conflicts(cur, decided)
        snapshots = Counter(e.snapshot for _, e in events if e.snapshot is not None)
        begun = 0
        if snapshots:  # recorded with the rows it wrote: a retried batch counts once
            begun = self.target.record_snapshots(cur, self.source, snapshots)
        self.target.commit()
        report.snapshot_reads += sum(snapshots.values())
        report.snapshots_begun += begun
        report.conflicts.update(recorded)
        report.outcomes.extend(zip(events, outcomes[: len(events)], strict=True))
        report.partners_applied += sum(o.write for o in outcomes[len(events) :])
        report.rows_written += len(writes)

    def dead_letter(self, report, message, reason: str, error, order_id) -> None:
        """Send one message to the dead-letter topic and account for it."""
        self.dead_letters.send(message, reason, error, order_id)
        report.dead_letters.append(reason)
