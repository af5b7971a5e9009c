"""Who may do what in Kafka: one principal per job with least privilege, declared once.

The launcher (and compose's kafka-setup job) create exactly these principals' SCRAM credentials
and ACLs; the brokers refuse everything else (StandardAuthorizer with
allow.everyone.if.no.acl.found=false). Only `admin` is a super user: the brokers and the launcher.
"""

from dataclasses import dataclass

from ordersync.kafka.deadletters.records import replay_group
from ordersync.sync.mapping import SIDES, dead_letter_topic, other, replay_topic, topic

ADMIN = "admin"
CONNECT_GROUP = "cdc-connect"
CONNECT_OFFSETS = "connect-offsets"
CONNECT_TOPICS = ("connect-configs", CONNECT_OFFSETS, "connect-status")
EXAMPLE_GROUP = "example-status-counts"
# the prefix of the operator tools' throwaway consumer groups (`make tail`, `make status`)
OPERATOR_GROUPS = "stack-"


@dataclass(frozen=True)
class Allow:
    """Operations allowed on one resource (a literal name, or every name with a prefix)."""

    resource: str  # "topic" or "group"
    name: str
    operations: tuple[str, ...]
    prefixed: bool = False


@dataclass(frozen=True)
class Principal:
    """One job's Kafka user and everything it may do."""

    name: str
    job: str
    allows: tuple[Allow, ...]


def debezium_topics(side: str) -> tuple[str, ...]:
    """The topics one side's connector writes: its tables' changes and its heartbeats."""
    return (topic(side), f"{side}.public.debezium_heartbeat", f"__debezium-heartbeat.{side}")


def sink_group(source: str) -> str:
    """The consumer group of the sink reading one side's changes."""
    return f"sink-{source}-to-{other(source)}"


def dead_letter_handling(source: str) -> tuple[Allow, ...]:
    """Read one direction's dead letters, replay them, mark what was replayed, delete that."""
    dlq = dead_letter_topic(source)
    return (
        Allow("topic", dlq, ("READ", "DESCRIBE", "DELETE")),
        Allow("topic", replay_topic(source), ("WRITE", "DESCRIBE")),
        Allow("group", replay_group(dlq), ("READ", "DESCRIBE")),
    )


def connect() -> Principal:
    """The Connect workers: their own topics and group; never the change topics."""
    internal = ("READ", "WRITE", "DESCRIBE", "CREATE", "DESCRIBE_CONFIGS")
    return Principal(
        "connect",
        "Kafka Connect workers (config, offset and status topics, group membership)",
        (
            *(Allow("topic", name, internal) for name in CONNECT_TOPICS),
            Allow("group", CONNECT_GROUP, ("READ", "DESCRIBE")),
        ),
    )


def debezium(side: str) -> Principal:
    """One side's source connector: writes that side's change and heartbeat topics, its offsets."""
    return Principal(
        f"debezium-{side}",
        f"the {side}-source connector (its producer, topic creation and offsets)",
        (
            *(
                Allow("topic", name, ("WRITE", "DESCRIBE", "CREATE"))
                for name in debezium_topics(side)
            ),
            # the task keeps its stream position in the workers' offsets topic through clients
            # of its own (connectors/register.py says why); Kafka has no ACL per record key, so
            # this is the whole topic, which the connectors share with the workers
            Allow("topic", CONNECT_OFFSETS, ("READ", "WRITE", "DESCRIBE")),
        ),
    )


def sink(source: str) -> Principal:
    """One direction's sink: reads its changes and replays, writes and reads its dead letters."""
    return Principal(
        f"sink-{source}",
        f"the sink applying {source}'s changes to {other(source)}",
        (
            Allow("topic", topic(source), ("READ", "DESCRIBE")),
            Allow("topic", replay_topic(source), ("READ", "DESCRIBE")),
            Allow("topic", dead_letter_topic(source), ("READ", "WRITE", "DESCRIBE")),
            # its replicas share the group; its name also prefixes nothing else of ours
            Allow("group", sink_group(source), ("READ", "DESCRIBE")),
        ),
    )


def app(side: str) -> Principal:
    """One side's app: its admin's Sync page lists and replays the dead letters written into it."""
    return Principal(
        f"app-{side}",
        f"the {side} app (dead letters of the sink writing into {side})",
        dead_letter_handling(other(side)),
    )


def dlq_tool() -> Principal:
    """`make dlq`: both directions' dead letters."""
    return Principal(
        "dlq",
        "the dead-letter tool (make dlq)",
        tuple(allow for side in SIDES for allow in dead_letter_handling(side)),
    )


def operator() -> Principal:
    """`make status`, `make topics`, `make tail`: read-only."""
    return Principal(
        "operator",
        "read-only tools: make status, make topics, make tail",
        (
            Allow("topic", "*", ("READ", "DESCRIBE", "DESCRIBE_CONFIGS")),
            Allow("group", "*", ("DESCRIBE",)),
            Allow("group", OPERATOR_GROUPS, ("READ",), prefixed=True),
        ),
    )


def example() -> Principal:
    """examples/status_counts.py: read-only on the change topics, its own group."""
    return Principal(
        "example",
        "the example consumer (examples/status_counts.py)",
        (
            *(Allow("topic", topic(side), ("READ", "DESCRIBE")) for side in SIDES),
            Allow("group", EXAMPLE_GROUP, ("READ", "DESCRIBE")),
        ),
    )


PRINCIPALS = (
    connect(),
    *(debezium(side) for side in SIDES),
    *(sink(side) for side in SIDES),
    *(app(side) for side in SIDES),
    dlq_tool(),
    operator(),
    example(),
)
BY_NAME = {p.name: p for p in PRINCIPALS}
USERS = (ADMIN, *BY_NAME)


# dead letters stay until replayed or discarded (make dlq), never deleted by age or size: a letter
# nobody looked at within a week must not vanish. What they take is watched instead (make status).
DEAD_LETTER_SETTINGS = {"retention.ms": "-1", "retention.bytes": "-1"}


def topic_settings(name: str) -> dict[str, str]:
    """A declared (or scratch) topic's own settings: the broker's defaults but for dead letters."""
    return DEAD_LETTER_SETTINGS if name.endswith(".dlq") else {}


def topics() -> tuple[str, ...]:
    """The topics the launcher creates before anything uses them (no job may create them)."""
    per_side = ((topic(side), dead_letter_topic(side), replay_topic(side)) for side in SIDES)
    return tuple(name for names in per_side for name in names)
