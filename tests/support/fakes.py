"""In-memory stand-ins for Kafka messages, the producer and the target database."""

import json
import uuid

import psycopg2

from connectors.sink.events import checks
from connectors.sink.merge import State
from ordersync.sync.mapping import FIELD_NAMES, LATEST, STORE, TOMBSTONE


class Message:
    """A consumed Kafka message."""

    def __init__(self, value, offset: int, topic: str = "store.public.store_order", key=b"k"):
        self._value, self._offset, self._topic, self._key = value, offset, topic, key

    def value(self):
        return self._value

    def key(self):
        return self._key

    def topic(self):
        return self._topic

    def partition(self):
        return 0

    def offset(self):
        return self._offset

    def error(self):
        return None

    def __len__(self):  # as confluent_kafka's: the value's length, 0 for a Kafka tombstone
        return len(self._value or b"")


class Producer:
    """Records produced values; delivers on flush unless told the broker is away."""

    def __init__(self):
        self.queued, self.stored, self.broker_up, self.reject = [], [], True, False

    def produce(self, topic, key=None, value=None, on_delivery=None):
        self.queued.append((topic, key, value, on_delivery))

    def flush(self, timeout=None):
        if not self.broker_up:
            return len(self.queued)
        for topic, key, value, callback in self.queued:
            if self.reject:
                callback("MSG_SIZE_TOO_LARGE", None)
            else:
                self.stored.append((topic, key, json.loads(value)))
                callback(None, None)
        self.queued = []
        return 0


class SqlError(psycopg2.Error):
    """A database error carrying a chosen SQLSTATE."""

    def __init__(self, pgcode: str, message: str = "refused"):
        super().__init__(message)
        self._code = pgcode

    @property
    def pgcode(self):
        return self._code


class Target:
    """Rows in a dict; `refuse(predicate, error)` makes commits fail like a real database."""

    def __init__(self):
        self.rows: dict[str, State] = {}
        self.purged: frozenset = frozenset()
        self.pending: dict[str, State] = {}
        self.refusals = []
        self.commits = 0
        self.snapshots: dict[tuple[str, int], int] = {}  # (source, snapshot LSN) -> reads
        # (order id, field, local version, incoming version) -> (place, Conflict), as committed
        self.conflicts: dict[tuple, tuple] = {}
        self.pending_conflicts: dict[tuple, tuple] = {}
        self.fields = LATEST
        self.checks = checks(LATEST, STORE)

    def refuse(self, predicate, error) -> None:
        """Fail every commit whose end state matches the predicate."""
        self.refusals.append((predicate, error))

    def ensure_connected(self):
        pass

    def begin(self):
        self.pending, self.pending_conflicts = {}, {}
        return None

    def fetch(self, cur, ids):
        return {i: self.rows[i] for i in ids if i in self.rows}, self.purged

    def write(self, cur, states):
        self.pending.update({s.id: s for s in states})

    def connected(self):
        return True

    def purge_conflicts(self, days):
        self.purges = getattr(self, "purges", 0) + 1
        return 0

    def record_conflicts(self, cur, decided):
        recorded = []
        for where, order_id, c in decided:
            key = (order_id, c.field, c.local_version, c.incoming_version)
            if key not in self.conflicts and key not in self.pending_conflicts:
                self.pending_conflicts[key] = (where, c)
                recorded.append((c.field, c.rule))
        return recorded

    def record_snapshots(self, cur, source, reads):
        new = [lsn for lsn in reads if (source, lsn) not in self.snapshots]
        for lsn, n in reads.items():
            self.snapshots[(source, lsn)] = self.snapshots.get((source, lsn), 0) + n
        return len(new)

    def commit(self):
        end = self.rows | self.pending
        for predicate, error in self.refusals:
            if predicate(end):
                raise error
        self.rows, self.pending = end, {}
        self.conflicts |= self.pending_conflicts
        self.pending_conflicts = {}
        self.commits += 1

    def rollback(self):
        self.pending, self.pending_conflicts = {}, {}

    def close(self):
        self.pending = {}


def change(order_number: str, order_id: str | None = None, version: int = 1) -> bytes:
    """A valid Debezium update from the store."""
    row = {
        "id": order_id or str(uuid.uuid4()),
        "order_number": order_number,
        "customer_name": "Ann",
        "shipping_address": "1 Main St",
        "items": '[{"sku": "X", "quantity": 1}]',
        "status": "pending",
        "tracking_number": None,
        "notes": None,
        "deleted": False,
        "sync_origin": STORE,
        "field_versions": json.dumps({n: version for n in FIELD_NAMES}),
    }
    return json.dumps({"op": "u", "before": None, "after": row, "source": {"ts_ms": 1}}).encode()


def batch(*values) -> list:
    """Messages at consecutive offsets."""
    return [Message(v, offset) for offset, v in enumerate(values)]


BASE = {
    "order_number": "A-1",
    "customer_name": "Ann",
    "shipping_address": "1 Main St",
    "items": [{"sku": "X", "quantity": 1}],
    "status": "pending",
    "tracking_number": None,
    "notes": None,
    TOMBSTONE: False,
}


def state(author=STORE, clock=None, **values) -> State:
    """A state of order `o1`, every field at version 1 unless `clock` says otherwise."""
    return State("o1", BASE | values, {n: 1 for n in FIELD_NAMES} | (clock or {}), author)


TOPIC = "store.public.store_order"


class OnPartition(Message):
    """A consumed message on a chosen partition."""

    def __init__(self, value, offset: int, partition: int):
        super().__init__(value, offset, TOPIC)
        self._partition = partition

    def partition(self):
        return self._partition
