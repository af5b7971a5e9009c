"""Dead letters on the running stack: listed, replayed once their cause is fixed, only once."""

from confluent_kafka.admin import AdminClient, ConfigResource

from ordersync.kafka.deadletters.queue import DeadLetterQueue
from ordersync.sync.mapping import SIDES, dead_letter_topic, replay_topic, topic
from stack import report
from stack.secrets import kafka_client
from tests.support.db import fetch_row
from tests.support.dead_letters import dead_lettered_collision, pending_letter, produce
from tests.support.kafka import end_offset, read_messages
from tests.support.processes import run_module
from tests.support.sync import arrives, settled


def dead_letter_check(source: str) -> report.Check:
    """The `make status` line about dead letters of the direction reading `source`."""
    name = f"dead letters {source}-to-"
    return next(c for c in report.dead_letter_checks() if c.name.startswith(name))


def dlq(*args: str):
    """Run `python -m connectors.dlq` for the store → warehouse direction."""
    return run_module("connectors.dlq", "--source", "store", *args)


def test_a_dead_letter_is_listed_fixed_and_replayed_exactly_once(apis):
    order_id, blocker, number = dead_lettered_collision(apis)
    letter = pending_letter("store", order_id)
    assert letter.reason == "rejected-by-database"
    assert "order_number" in letter.error
    assert dead_letter_check("store").warning

    listed = dlq()
    assert listed.returncode == 0, listed.stderr
    line = next(x for x in listed.stdout.splitlines() if order_id in x)
    assert "rejected-by-database" in line and f"{topic('store')}[0]@{letter.offset}" in line
    assert fetch_row("warehouse", order_id) is None

    # the cause: a live warehouse order holds the number; rename it, then replay
    apis["warehouse"].patch(blocker["id"], {"order_number": f"{number}-old"})
    replays = end_offset(replay_topic("store"))
    replayed = dlq("--replay")
    assert replayed.returncode == 0, replayed.stderr
    assert f"(order {order_id})" in replayed.stdout
    row = arrives("warehouse", order_id, order_number=number, sync_origin="store")
    # into the replay topic: only the store's Debezium writes its change topic
    assert end_offset(replay_topic("store")) == replays + 1
    settled()
    assert pending_letter("store", order_id) is None
    check = dead_letter_check("store")
    assert check.value.startswith("0 since the last replay") and not check.warning

    end = end_offset(replay_topic("store"))
    again = dlq("--replay")
    assert again.returncode == 0, again.stderr
    assert "replayed 0" in again.stdout
    settled()
    assert end_offset(replay_topic("store")) == end
    assert fetch_row("warehouse", order_id)["version"] == row["version"]

    # the forged order never existed in the store: delete it so both sides agree again
    apis["warehouse"].delete(order_id)
    arrives("store", order_id, deleted=True)
    settled()


def test_a_message_dead_lettered_twice_is_listed_and_replayed_once(apis):
    order_id, blocker, number = dead_lettered_collision(apis)
    letter = pending_letter("store", order_id)
    record = read_messages(dead_letter_topic("store"), letter.dlq_offset)[0]
    # what a batch retried after a lost confirmation writes: the same letter again
    produce(dead_letter_topic("store"), record.key(), record.value())
    listed = dlq()
    assert listed.returncode == 0, listed.stderr
    assert len([x for x in listed.stdout.splitlines() if order_id in x]) == 1
    assert "1 of them dead-lettered twice" in listed.stdout
    apis["warehouse"].patch(blocker["id"], {"order_number": f"{number}-old"})
    replays = end_offset(replay_topic("store"))
    replayed = dlq("--replay")
    assert replayed.returncode == 0, replayed.stderr
    assert replayed.stdout.count(f"(order {order_id})") == 1
    arrives("warehouse", order_id, order_number=number)
    assert end_offset(replay_topic("store")) == replays + 1
    apis["warehouse"].delete(order_id)
    arrives("store", order_id, deleted=True)
    settled()


def test_dead_letters_are_kept_until_replayed_or_discarded():
    admin = AdminClient(kafka_client())
    for side in SIDES:
        resource = ConfigResource(ConfigResource.Type.TOPIC, dead_letter_topic(side))
        [future] = admin.describe_configs([resource]).values()
        settings = future.result(timeout=30)
        assert settings["retention.ms"].value == "-1"  # never deleted by age
        assert settings["retention.bytes"].value == "-1"  # nor by size


def dlq_partitions(source: str) -> list:
    """The dead-letter topic's partitions with their log start, end and replayed offset."""
    with DeadLetterQueue(kafka_client(), dead_letter_topic(source), 10) as queue:
        return queue.partitions()


def test_trimming_deletes_what_was_replayed_and_keeps_what_waits(apis):
    order_id, blocker, number = dead_lettered_collision(apis)  # waits for a replay
    before = dlq_partitions("store")
    trimmed = dlq("--trim")
    assert trimmed.returncode == 0, trimmed.stderr
    after = dlq_partitions("store")
    for old, new in zip(before, after, strict=True):
        assert new.low == max(old.low, old.committed)  # only the handled ones are gone
        assert new.pending == old.pending and new.high == old.high
    assert pending_letter("store", order_id) is not None
    kept = sum(p.pending for p in after)
    assert dead_letter_check("store").value.split(", ")[1].startswith(f"{kept} kept")
    apis["warehouse"].patch(blocker["id"], {"order_number": f"{number}-old"})
    assert dlq("--replay").returncode == 0
    arrives("warehouse", order_id, order_number=number)
    apis["warehouse"].delete(order_id)
    arrives("store", order_id, deleted=True)
    settled()
