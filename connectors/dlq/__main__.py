"""`python -m connectors.dlq [--source SIDE] [--all] [--replay | --discard]`: dead letters.

Lists the dead letters of each direction since its last replay (--all: every one still kept).
--replay produces each pending dead letter's original key and value to its original topic, so
the sink applies it through its ordinary (idempotent) merge, and only once Kafka confirmed every
delivery marks them replayed. Replaying again replays nothing new. --discard marks every pending
dead letter handled without replaying it (for letters looked at and judged noise, such as garbage
a broken producer wrote); they stay in the topic for --all. Exits 1 when Kafka cannot be read or
a replay was not confirmed.
"""

import argparse
import logging
import sys

from ordersync.kafka.client import client_settings
from ordersync.kafka.deadletters.queue import DeadLetterError, DeadLetterQueue, ReplayResult
from ordersync.kafka.deadletters.records import distinct, replay_group, table
from ordersync.sync.mapping import SIDES, dead_letter_topic, other


def show(queue: DeadLetterQueue, source: str, everything: bool) -> None:
    """Print one direction's counts and its dead letters."""
    records = queue.read(everything=everything)
    letters = distinct(records)
    twice = (
        f" ({len(records) - len(letters)} of them dead-lettered twice)"
        if len(records) > len(letters)
        else ""
    )
    print(
        f"{queue.topic} ({source} → {other(source)}): {queue.pending_count()} since the last "
        f"replay, {queue.total_count()} kept{twice}"
    )
    if letters:
        print("\n".join("  " + line for line in table(letters)))


def replay(queue: DeadLetterQueue) -> None:
    """Replay one direction and print what was replayed."""
    result = queue.replay()
    for letter in result.replayed:
        print(f"replayed {letter.position} (order {letter.order_id or '-'}) to {letter.source}")
    print(summary(queue, result))


def summary(queue: DeadLetterQueue, result: ReplayResult) -> str:
    """One line on what a replay did."""
    line = f"{queue.topic}: replayed {len(result.replayed)}"
    if result.unreplayable:
        offsets = ", ".join(str(x.dlq_offset) for x in result.unreplayable)
        line += f", skipped {len(result.unreplayable)} without their event (offsets {offsets})"
    if result.committed:
        marks = ", ".join(f"[{p}]@{o}" for p, o in sorted(result.committed.items()))
        line += f"; {replay_group(queue.topic)} committed at {marks}"
    return line


def main(argv: list[str] | None = None) -> int:
    """Parse the command line, list or replay each chosen direction; return the exit code."""
    parser = argparse.ArgumentParser(prog="python -m connectors.dlq", description=__doc__)
    parser.add_argument("--source", choices=SIDES, help="only the direction reading this side")
    parser.add_argument("--all", action="store_true", help="list replayed dead letters too")
    action = parser.add_mutually_exclusive_group()
    action.add_argument("--replay", action="store_true", help="replay the pending dead letters")
    action.add_argument("--discard", action="store_true", help="mark them handled, no replay")
    action.add_argument(
        "--trim", action="store_true", help="delete the ones already replayed or discarded"
    )
    args = parser.parse_args(argv)
    # a failure is reported once, below; librdkafka would repeat it on every reconnect
    logging.getLogger("dlq.kafka").setLevel(logging.CRITICAL)
    kafka = client_settings()
    status = 0
    for source in [args.source] if args.source else SIDES:
        with DeadLetterQueue(kafka, dead_letter_topic(source)) as queue:
            try:
                if args.replay:
                    replay(queue)
                elif args.trim:
                    starts = ", ".join(f"[{p}]@{o}" for p, o in sorted(queue.trim().items()))
                    print(
                        f"{queue.topic}: deleted what was replayed or discarded ({starts or '-'})"
                    )
                elif args.discard:
                    marks = ", ".join(f"[{p}]@{o}" for p, o in sorted(queue.discard().items()))
                    print(f"{queue.topic}: discarded what was pending (now at {marks or '-'})")
                else:
                    show(queue, source, args.all)
            except DeadLetterError as error:
                print(f"{queue.topic}: FAILED: {error}", file=sys.stderr)
                status = 1
    return status


if __name__ == "__main__":
    sys.exit(main())
