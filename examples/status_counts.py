"""An idempotent consumer of both change topics: live orders per status, kept in SQLite.

    KAFKA_USERNAME=example KAFKA_PASSWORD=... \
        python examples/status_counts.py --state counts.db [--once]

Kafka lets it in only with a principal of its own (docs/security.md): `example` may read
the two change topics and commit in its group, nothing else. KAFKA_CA_FILE turns on TLS.

Each topic carries the changes authored on its own side only (what the sink applied there
arrives on the other topic), so a full view reads both, and merges them the way the sinks do:
per field, the higher version in `field_versions` wins, a tie goes to the field's owner (the
warehouse owns `status`), and a deletion is final. That merge ignores duplicates and late
arrivals, so replays and restarts change nothing. The projection and the consumed offsets are
committed in the same SQLite transaction: a restart resumes exactly where the projection is.

During a schema rollout a row may lack the `status` column, and rows and clocks may name fields
this consumer does not know: such a row leaves the status as it is, and unknown names are
ignored. See docs/events.md ("Schema versions").
"""

import argparse
import json
import os
import sqlite3

from confluent_kafka import OFFSET_BEGINNING, Consumer, TopicPartition

TOPICS = ("store.public.store_order", "warehouse.public.warehouse_order")
SCHEMA = """
CREATE TABLE IF NOT EXISTS orders (
  id TEXT PRIMARY KEY, status TEXT, status_version INTEGER, by_owner INTEGER, deleted INTEGER);
CREATE TABLE IF NOT EXISTS position (topic TEXT, part INTEGER, next_offset INTEGER,
  PRIMARY KEY (topic, part));
"""
# a row without a status column says nothing about the status: a version below any real one
# keeps whatever status the projection has
NO_STATUS = -1
# the status of the side that owns it wins a tie; a deletion, once seen, stays
MERGE = """
INSERT INTO orders VALUES (:id, :status, :version, :by_owner, :deleted)
ON CONFLICT (id) DO UPDATE SET
  status = CASE WHEN excluded.status_version > status_version
    OR (excluded.status_version = status_version AND excluded.by_owner > by_owner)
    THEN excluded.status ELSE status END,
  by_owner = CASE WHEN excluded.status_version > status_version THEN excluded.by_owner
    WHEN excluded.status_version = status_version THEN max(by_owner, excluded.by_owner)
    ELSE by_owner END,
  status_version = max(status_version, excluded.status_version),
  deleted = max(deleted, excluded.deleted)
"""


def change(topic: str, value: bytes | None) -> dict | None:
    """The fields this projection needs from a Debezium change, or None for anything else."""
    try:
        event = json.loads(value)
        if event["source"]["connector"] != "postgresql":  # only what Debezium wrote counts
            return None
        row = event["after"] or event["before"]
        status, version = status_of(row)
        found = {
            "id": row["id"],
            "status": status,
            "version": version,
            "by_owner": int(topic.startswith("warehouse.")),
            "deleted": int(event["op"] == "d" or row.get("deleted") is True),
        }
    except (TypeError, ValueError, KeyError, AttributeError):
        return None  # a Kafka tombstone, or not a change event: nothing to project
    known = isinstance(status, str) or (status, version) == (None, NO_STATUS)
    return found if known and isinstance(found["id"], str) and type(version) is int else None


def status_of(row: dict) -> tuple:
    """A row's status and its logical version; (None, NO_STATUS) when it lacks the column."""
    if "status" not in row:
        return None, NO_STATUS
    # a field without a clock entry was never written: version 0, as the sinks read it
    return row["status"], json.loads(row["field_versions"]).get("status", 0)


def project(db, topic: str, value: bytes | None) -> None:
    """Merge one message into the projection; anything that is not a change is skipped."""
    if (found := change(topic, value)) is not None:
        db.execute(MERGE, found)


def counts(db) -> dict[str, int]:
    """Live orders per status."""
    rows = db.execute(
        "SELECT status, count(*) FROM orders WHERE NOT deleted AND status IS NOT NULL "
        "GROUP BY status"
    )
    return dict(rows.fetchall())


def assign(consumer, db) -> dict[tuple, int]:
    """Start every partition of both topics where the projection stopped; return their ends."""
    stored = {(t, p): o for t, p, o in db.execute("SELECT * FROM position")}
    starts, ends = [], {}
    for topic in TOPICS:
        for part in consumer.list_topics(topic, timeout=10).topics[topic].partitions:
            starts.append(TopicPartition(topic, part, stored.get((topic, part), OFFSET_BEGINNING)))
            ends[(topic, part)] = consumer.get_watermark_offsets(starts[-1], timeout=10)[1]
    consumer.assign(starts)
    return ends


def login() -> dict:
    """librdkafka's SASL/SCRAM (and TLS) settings from KAFKA_USERNAME, _PASSWORD, _CA_FILE."""
    settings = {}
    if os.environ.get("KAFKA_CA_FILE"):
        settings |= {"security.protocol": "SSL", "ssl.ca.location": os.environ["KAFKA_CA_FILE"]}
    if os.environ.get("KAFKA_USERNAME"):
        settings |= {
            "security.protocol": "SASL_SSL" if settings else "SASL_PLAINTEXT",
            "sasl.mechanism": "SCRAM-SHA-512",
            "sasl.username": os.environ["KAFKA_USERNAME"],
            "sasl.password": os.environ.get("KAFKA_PASSWORD", ""),
        }
    return settings


def run(bootstrap: str, state: str, once: bool) -> dict[str, int]:
    """Consume (to the ends seen at start with `once`, else forever) and return the counts."""
    db = sqlite3.connect(state)
    db.executescript(SCHEMA)
    consumer = Consumer(
        {"bootstrap.servers": bootstrap, "group.id": "example-status-counts"} | login()
    )
    try:
        ends = assign(consumer, db)
        done = {key: 0 for key in ends}
        done |= {(t, p): o for t, p, o in db.execute("SELECT * FROM position")}
        while not (once and all(done[key] >= end for key, end in ends.items())):
            batch = [m for m in consumer.consume(500, 1.0) if not m.error()]
            with db:  # the projection and the positions move together, a batch at a time
                for message in batch:
                    project(db, message.topic(), message.value())
                    done[(message.topic(), message.partition())] = message.offset() + 1
                db.executemany(
                    "INSERT OR REPLACE INTO position VALUES (?, ?, ?)",
                    [(t, p, o) for (t, p), o in done.items()],
                )
        return counts(db)
    finally:
        consumer.close()
        db.close()


def main() -> None:
    """Parse the command line, consume, print the counts as JSON."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bootstrap-servers", default="127.0.0.1:9092")
    parser.add_argument("--state", default="status_counts.db")
    parser.add_argument("--once", action="store_true", help="stop at the ends seen at start")
    args = parser.parse_args()
    print(json.dumps(run(args.bootstrap_servers, args.state, args.once)))


if __name__ == "__main__":
    main()
