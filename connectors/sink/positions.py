"""How far each partition is done, and the messages between poll and commit: one object owns both.

The poll loop, the retry's idle polling and the rebalance callbacks all go through it, so a revoke
that lands mid-retry replaces the batch in flight instead of editing a list someone else holds.
"""

from collections.abc import Callable

from confluent_kafka import TopicPartition

Partition = tuple[str, int]


def partition_of(message) -> Partition:
    """The (topic, partition) a message came from."""
    return (message.topic(), message.partition())


class Positions:
    """Held messages, the batch in flight and how far each partition is applied."""

    def __init__(self, cap: Callable[[], dict[Partition, int]] = dict):
        self.cap = cap  # the lowest offset per partition that must be read again (parked changes)
        self.reached: dict[Partition, int] = {}  # next offset per partition, once applied
        self.held: list = []  # fetched, not yet taken as a batch
        self.in_flight: list = []  # the batch being applied; each attempt reads it anew

    def hold(self, messages: list) -> None:
        """Keep fetched messages, in order, for the next batch."""
        self.held.extend(messages)

    def take_held(self) -> list:
        """Hand over what is held, leaving nothing held."""
        held, self.held = self.held, []
        return held

    def start(self, messages: list) -> None:
        """Make these messages the batch in flight."""
        self.in_flight = list(messages)

    def finish(self) -> None:
        """The batch in flight went through: its partitions are done up to its last offsets."""
        for message in self.in_flight:
            key = partition_of(message)
            self.reached[key] = max(self.reached.get(key, 0), message.offset() + 1)
        self.in_flight = []

    def committable(self, partitions=None) -> list[TopicPartition]:
        """The offsets to commit (of these partitions, or all): how far done, capped by parking."""
        cap = self.cap()
        return [
            TopicPartition(topic, part, min(offset, cap.get((topic, part), offset)))
            for (topic, part), offset in self.reached.items()
            if partitions is None or (topic, part) in partitions
        ]

    def done(self) -> dict[Partition, int]:
        """The committable offset per partition: what a restart would resume from."""
        return {(p.topic, p.partition): p.offset for p in self.committable()}

    def forget(self, gone: set[Partition]) -> None:
        """Drop everything of partitions no longer ours: held, in flight and progress."""

        def ours(message) -> bool:
            return partition_of(message) not in gone

        self.held = [m for m in self.held if ours(m)]
        self.in_flight = [m for m in self.in_flight if ours(m)]
        for key in gone:
            self.reached.pop(key, None)
