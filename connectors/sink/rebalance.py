"""The sink's side of a rebalance: what moves away is committed where it is done, then forgotten.

librdkafka calls these from inside poll() or consume(), so they may land between two attempts at
a batch: they replace what Positions holds, and the next attempt reads the batch anew.
"""

import logging

import psycopg2
from confluent_kafka import KafkaException

from connectors.sink.positions import Positions

log = logging.getLogger("sink")


def partitions(assignment: list) -> set[tuple[str, int]]:
    """The (topic, partition) pairs of a list of TopicPartitions."""
    return {(p.topic, p.partition) for p in assignment}


class Rebalance:
    """Callbacks for the consumer's subscribe(): on_assign, on_revoke and on_lost."""

    def __init__(self, consumer, positions: Positions, processor, target):
        self.consumer, self.positions = consumer, positions
        self.processor, self.target = processor, target

    def assigned(self, _consumer, assignment: list) -> None:
        """Partitions this replica now owns (cooperative: only the new ones)."""
        log.info("assigned %s", sorted(partitions(assignment)))

    def revoked(self, _consumer, assignment: list) -> None:
        """Commit how far the partitions that move are done, then forget everything of theirs.

        Their held and parked messages are read again by the new owner from that offset; the
        merge makes any change applied twice a no-op.
        """
        gone = partitions(assignment)
        offsets = self.positions.committable(gone)
        if offsets:
            try:
                self.consumer.commit(offsets=offsets, asynchronous=False)
            except KafkaException as error:  # the new owner then starts a little earlier
                log.warning("could not commit revoked partitions: %s", error)
        self.forget(gone)
        log.info("revoked %s at %s", sorted(gone), [(o.partition, o.offset) for o in offsets])

    def lost(self, _consumer, assignment: list) -> None:
        """Partitions taken away without a chance to commit (this replica was too slow)."""
        gone = partitions(assignment)
        log.warning("lost %s", sorted(gone))
        self.forget(gone)

    def forget(self, gone: set) -> None:
        """Drop held, in-flight, parked and progress state of partitions no longer ours."""
        self.positions.forget(gone)
        try:
            self.processor.drop_partitions(gone)
        except psycopg2.Error as error:  # their rows in the parking lot age out on their own
            log.warning("could not clear parked changes of revoked partitions: %s", error)
            self.target.reset()
