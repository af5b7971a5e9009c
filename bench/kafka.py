"""The bench's own Kafka logins: the stack's admin, since its scratch topics and groups belong to
no job. On a commit from before Kafka logins (`python -m bench.ab` runs this bench on older
commits too) there is nothing to log in with, and plaintext is what that stack speaks.
"""

from ordersync import topology

try:
    from stack.configs import client_security
    from stack.secrets import kafka_client, kafka_env
except ImportError:  # an older commit's stack
    client_security = kafka_client = kafka_env = None

ADMIN = "admin"


def client() -> dict:
    """librdkafka settings of a bench client."""
    return (
        kafka_client(ADMIN) if kafka_client else {"bootstrap.servers": topology.BOOTSTRAP_SERVERS}
    )


def env() -> dict[str, str]:
    """The environment of a sink the bench starts (KAFKA_BOOTSTRAP_SERVERS and the login)."""
    if kafka_env:
        return kafka_env(ADMIN)
    # a sink older than the Kafka logins reads another name, and defaults to this address
    return {"KAFKA_BOOTSTRAP_SERVERS": topology.BOOTSTRAP_SERVERS}


def java() -> dict:
    """A Java client's login settings (the JDBC sink's Connect worker)."""
    return client_security(ADMIN) if client_security else {}
