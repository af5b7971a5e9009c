"""A sink's settings, each declared once: its field, its environment variable, bounds and default.

`SinkConfig.from_env` reads them; `environment` writes them for the launcher and for compose,
so a new setting is one field here.
"""

import os
from dataclasses import dataclass, field, fields

from marshmallow import fields as kinds

from connectors.sink.target import origin_name
from ordersync.db.conflicts import RETENTION_BOUNDS, RETENTION_DAYS
from ordersync.environment import PARTITIONS, REPLICATION, BadSetting, seconds, setting, whole
from ordersync.kafka.access import sink_group
from ordersync.kafka.client import client_settings
from ordersync.sync.mapping import topic

DATABASE_URL = "SINK_DATABASE_URL"
# librdkafka's own bounds of a session timeout (the broker's group limits may be narrower)
MILLISECONDS = whole(1, 3_600_000)


def declared(variable: str, default, kind: kinds.Field | None = None):
    """A field read from `variable` (checked by `kind`; text when None), else `default`."""
    return field(default=default, metadata={"variable": variable, "kind": kind})


@dataclass(frozen=True)
class SinkConfig:
    """Where a sink reads from and writes to, and how it batches."""

    source: str
    target: str
    dsn: str = field(metadata={"variable": DATABASE_URL})
    # librdkafka's address and login settings (ordersync.kafka.client)
    kafka: dict = field(default_factory=lambda: client_settings({}))
    batch_size: int = declared("SINK_BATCH_SIZE", 2000, whole(1, 100_000))
    poll_timeout: float = 0.5
    # the direction's own group unless set (replay, benchmarks)
    group_id: str = declared("SINK_GROUP_ID", "")
    topic: str = declared("SINK_TOPIC", "")  # the source side's change topic unless set
    lock_timeout_ms: int = declared("SINK_LOCK_TIMEOUT_MS", 10_000, MILLISECONDS)
    # how long a change refused for a number clash waits for its partner
    park_seconds: float = declared("SINK_PARK_SECONDS", 10.0, seconds(0, 3600))
    # which of the group's replicas this is: it names its replication origin
    replica: int = declared("SINK_REPLICA", 0, whole(0, 999))
    # of the topics this sink creates when they are missing
    partitions: int = declared("SINK_TOPIC_PARTITIONS", 1, whole(*PARTITIONS))
    replication_factor: int = declared("SINK_TOPIC_REPLICATION_FACTOR", 1, whole(*REPLICATION))
    # how soon a replica killed outright loses its partitions
    session_timeout_ms: int = declared("SINK_SESSION_TIMEOUT_MS", 45_000, MILLISECONDS)
    # how long a recorded conflict is kept (the API's services read the same variable)
    conflict_retention_days: int = declared(
        "CONFLICT_RETENTION_DAYS", RETENTION_DAYS, whole(*RETENTION_BOUNDS)
    )
    # how often the sink deletes the conflicts past retention
    conflict_purge_seconds: float = declared(
        "SINK_CONFLICT_PURGE_SECONDS", 3600.0, seconds(1, 86400)
    )
    metrics_host: str = declared("SINK_METRICS_HOST", "127.0.0.1")
    metrics_port: int = declared("SINK_METRICS_PORT", 9101, whole(1, 65535))

    def __post_init__(self):
        if not self.group_id:
            object.__setattr__(self, "group_id", sink_group(self.source))
        if not self.topic:
            object.__setattr__(self, "topic", topic(self.source))

    @classmethod
    def from_env(cls, source: str, target: str, environ=os.environ) -> "SinkConfig":
        """Read the sink's settings from its SINK_* variables and the Kafka client's own."""
        if not environ.get(DATABASE_URL):
            raise BadSetting(f"{DATABASE_URL} must be set (the target database, as the sink)")
        values = {f.name: read(environ, f) for f in settings()}
        return cls(source=source, target=target, kafka=client_settings(environ), **values)

    @property
    def ephemeral(self) -> bool:
        """A replay or benchmark group, whose replication origin is dropped when it stops."""
        return self.group_id != sink_group(self.source)

    @property
    def origin(self) -> str:
        """This replica's replication origin: two sessions can never share one."""
        return origin_name(self.group_id) + (f"_r{self.replica}" if self.replica else "")

    @property
    def dead_letter_topic(self) -> str:
        """Where events that cannot be applied go."""
        return f"{self.topic}.dlq"

    @property
    def replay_topic(self) -> str:
        """Where the dead-letter tool replays this direction's dead letters (read like changes)."""
        return f"{self.topic}.replay"


def settings() -> list:
    """The fields of SinkConfig read from the environment."""
    return [f for f in fields(SinkConfig) if "variable" in f.metadata]


def read(environ, declaration):
    """One declared field's value from the environment, checked; its default when unset."""
    variable, kind = declaration.metadata["variable"], declaration.metadata.get("kind")
    if kind is None:
        return environ.get(variable, declaration.default)
    return setting(environ, variable, kind, declaration.default)


def environment(**values) -> dict[str, str]:
    """The variables that give a sink these settings (by field name); None keeps the default."""
    names = {f.name: f.metadata["variable"] for f in settings()}
    unknown = set(values) - set(names)
    if unknown:
        raise TypeError(f"not sink settings: {sorted(unknown)}")
    return {names[name]: str(value) for name, value in values.items() if value is not None}
