"""Where the development stack's components listen: every process's default, declared once.

A leaf: it imports nothing of ours but the environment's number rules (a leaf too), so the
apps, the connectors and the launcher can all read it (layers point down: docs/development.md).
"""

from ordersync.environment import PARTITIONS, checked, one_of, whole

HOST = "127.0.0.1"
# shifts every port, so a second stack (another checkout) can run beside the first
PORT_OFFSET = checked("STACK_PORT_OFFSET", whole(0, 55_000), 0)
DATABASES = {"store": 5433 + PORT_OFFSET, "warehouse": 5434 + PORT_OFFSET}

# cluster mode (STACK_BROKERS=3): three KRaft brokers that are also the three controller voters,
# two Connect workers, topics replicated three times; one broker and one worker otherwise
BROKERS = checked("STACK_BROKERS", one_of(1, 3), 1)
CLUSTER = BROKERS == 3
CONNECT_WORKERS = 2 if CLUSTER else 1
REPLICATION_FACTOR = 3 if CLUSTER else 1
MIN_INSYNC_REPLICAS = 2 if CLUSTER else 1
# partitions of the change and dead-letter topics (only ever raised: Kafka cannot shrink a topic)
TOPIC_PARTITIONS = checked("STACK_TOPIC_PARTITIONS", whole(*PARTITIONS), 3 if CLUSTER else 1)
# WAL a replication slot may hold before PostgreSQL invalidates it (max_slot_wal_keep_size): an
# outage that outlasts it ends in a new snapshot instead of a full disk (connectors/slots.py)
MAX_SLOT_WAL_KEEP_MB = checked("STACK_MAX_SLOT_WAL_KEEP_MB", whole(64, 1_048_576), 4096)
# sink processes per direction, in one consumer group
SINK_REPLICAS = checked("SINK_REPLICAS", whole(1, 8), 1)

# broker n (1, 2, 3) listens on 9092, 9094, 9096 and its controller on the port above it
KAFKA_PORTS = [9092 + 2 * n + PORT_OFFSET for n in range(BROKERS)]
KAFKA_CONTROLLER_PORTS = [port + 1 for port in KAFKA_PORTS]
KAFKA_PORT = KAFKA_PORTS[0]
KAFKA_CONTROLLER_PORT = KAFKA_CONTROLLER_PORTS[0]
CONNECT_PORTS = [8083 + n + PORT_OFFSET for n in range(CONNECT_WORKERS)]
CONNECT_PORT = CONNECT_PORTS[0]
APP_PORTS = {"store": 5001 + PORT_OFFSET, "warehouse": 5002 + PORT_OFFSET}
# replica r of the sink into a side serves its metrics 10 * r above replica 0's port
SINK_METRICS_PORTS = {"store": 9101 + PORT_OFFSET, "warehouse": 9102 + PORT_OFFSET}
WATCHDOG_METRICS_PORT = 9103 + PORT_OFFSET
MONITOR_METRICS_PORT = 9104 + PORT_OFFSET

BOOTSTRAP_SERVERS = ",".join(f"{HOST}:{port}" for port in KAFKA_PORTS)
CONNECT_URLS = [f"http://{HOST}:{port}" for port in CONNECT_PORTS]
CONNECT_URL = CONNECT_URLS[0]


def sink_metrics_port(target: str, replica: int = 0) -> int:
    """The metrics port of one replica of the sink writing into `target`."""
    return SINK_METRICS_PORTS[target] + 10 * replica


def database_url(side: str, user: str, password: str, database: str | None = None) -> str:
    """Return the URL of one side's database (or another database on its server) as a user."""
    return f"postgresql://{user}:{password}@{HOST}:{DATABASES[side]}/{database or side}"


def app_url(side: str) -> str:
    """Return the base URL of one side's REST API."""
    return f"http://{HOST}:{APP_PORTS[side]}"
