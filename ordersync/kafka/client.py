"""How our processes reach Kafka: the brokers' address, this job's principal and the brokers' CA.

Every Kafka client of ours (sinks, apps, dead-letter tool, launcher, example consumer) builds its
librdkafka settings here, from the same environment variables.
"""

import os
from pathlib import Path

from ordersync import topology
from ordersync.environment import BadSetting

# the brokers keep SCRAM credentials (salted, iterated): the password never crosses the wire
MECHANISM = "SCRAM-SHA-512"


def client_settings(environ=os.environ) -> dict:
    """librdkafka settings: KAFKA_BOOTSTRAP_SERVERS, KAFKA_USERNAME/KAFKA_PASSWORD, KAFKA_CA_FILE.

    With a username the client authenticates (SASL/SCRAM); with a CA file it speaks TLS and
    checks the brokers' certificates against it.
    """
    servers = environ.get("KAFKA_BOOTSTRAP_SERVERS") or topology.BOOTSTRAP_SERVERS
    settings = {"bootstrap.servers": servers}
    user, ca = environ.get("KAFKA_USERNAME", ""), environ.get("KAFKA_CA_FILE", "")
    if ca:
        if not Path(ca).is_file():
            raise BadSetting(f"KAFKA_CA_FILE={ca[:200]!r}: no such file")
        settings |= {"security.protocol": "SSL", "ssl.ca.location": ca}
    if user:
        if not environ.get("KAFKA_PASSWORD"):
            raise BadSetting(f"KAFKA_PASSWORD must be set with KAFKA_USERNAME={user[:64]!r}")
        settings |= {
            "security.protocol": "SASL_SSL" if ca else "SASL_PLAINTEXT",
            "sasl.mechanism": MECHANISM,
            "sasl.username": user,
            "sasl.password": environ["KAFKA_PASSWORD"],
        }
    return settings


def credentials_env(user: str, password: str, ca_file: str | None = None) -> dict[str, str]:
    """The environment variables that make `client_settings` log in as `user`."""
    env = {"KAFKA_USERNAME": user, "KAFKA_PASSWORD": password}
    return env | ({"KAFKA_CA_FILE": ca_file} if ca_file else {})
