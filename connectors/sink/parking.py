"""The parking lot the replicas of one sink share, in the target database.

A change refused by the live-number rule may wait for a partner that another replica holds: two
orders that swap numbers in one statement travel on two partitions, and neither half commits
alone. Each replica writes what it parks here; a replica retrying its own parked changes takes
its partners' along into the same transaction. Applying a change twice is harmless (the merge
skips what the row already has by its field clocks), so the owner's own retry later finds it done.
"""

from dataclasses import dataclass

from ordersync.db.roles import PARKED_TABLE


@dataclass(frozen=True)
class ParkedMessage:
    """A change another replica parked, shaped like a consumed Kafka message."""

    _topic: str
    _partition: int
    _offset: int
    _value: bytes

    def topic(self) -> str:
        return self._topic

    def partition(self) -> int:
        return self._partition

    def offset(self) -> int:
        return self._offset

    def value(self) -> bytes:
        return self._value

    def key(self) -> None:
        return None

    def error(self) -> None:
        return None


class ParkingLot:
    """Rows of one consumer group's parked changes in the target's `sink_parked` table."""

    def __init__(self, target, group: str, forget_after_seconds: float):
        self.target, self.group = target, group
        # a row older than this lost its owner (killed, or its partition moved): forget it
        self.forget_after = forget_after_seconds

    def add(self, message) -> None:
        """Publish one parked change to the other replicas."""
        self._run(
            f"INSERT INTO {PARKED_TABLE} (consumer_group, topic, kafka_partition, kafka_offset, "
            "event) VALUES (%s, %s, %s, %s, %s) ON CONFLICT ON CONSTRAINT sink_parked_pkey "
            "DO UPDATE SET parked_at = now()",
            (self.group, message.topic(), message.partition(), message.offset(), message.value()),
        )

    def remove(self, places: list[tuple]) -> None:
        """Forget parked changes by (topic, partition, offset): applied, dead-lettered or moved."""
        if places:
            self._run(
                f"DELETE FROM {PARKED_TABLE} WHERE consumer_group = %s AND "
                "(topic, kafka_partition, kafka_offset) IN "
                "(SELECT * FROM unnest(%s::text[], %s::int[], %s::bigint[]))",
                (self.group, *map(list, zip(*places, strict=True))),
            )

    def partners(self, own: set[tuple]) -> list[ParkedMessage]:
        """The changes other replicas parked (not `own`), oldest first; stale ones are dropped."""
        self.target.ensure_connected()
        cur = self.target.begin()
        cur.execute(
            f"DELETE FROM {PARKED_TABLE} WHERE consumer_group = %s "
            "AND parked_at < now() - make_interval(secs => %s)",
            (self.group, self.forget_after),
        )
        cur.execute(
            f"SELECT topic, kafka_partition, kafka_offset, event FROM {PARKED_TABLE} "
            "WHERE consumer_group = %s ORDER BY parked_at, topic, kafka_partition, kafka_offset",
            (self.group,),
        )
        rows = cur.fetchall()
        self.target.commit()
        return [
            ParkedMessage(topic, part, offset, bytes(event))
            for topic, part, offset, event in rows
            if (topic, part, offset) not in own
        ]

    def _run(self, statement: str, args: tuple) -> None:
        self.target.ensure_connected()
        cur = self.target.begin()
        cur.execute(statement, args)
        self.target.commit()
