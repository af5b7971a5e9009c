"""Render the configuration files of supervisord, Kafka and Kafka Connect into .stack/conf."""

import shlex

from ordersync.kafka_access import ADMIN
from ordersync.kafka_client import MECHANISM
from stack import topology as t
from stack.components import Component
from stack.secrets import CONNECT_REST_USERS, kafka_passwords, write_private
from stack.tls import BROKER_FILE

ENV_PROVIDER = "org.apache.kafka.common.config.provider.EnvVarConfigProvider"
SCRAM_LOGIN = "org.apache.kafka.common.security.scram.ScramLoginModule"
PLAIN_LOGIN = "org.apache.kafka.common.security.plain.PlainLoginModule"
BASIC_AUTH = "org.apache.kafka.connect.rest.basic.auth.extension"
# TLS on the cluster stack's listeners; the single node listens on loopback only
PROTOCOL = "SASL_SSL" if t.CLUSTER else "SASL_PLAINTEXT"
CONNECT_JAAS = t.CONF / "connect-jaas.conf"
CONNECT_REST_USERS_FILE = t.CONF / "connect-rest-users.properties"

LOG4J2 = """\
status = warn
appender.console.type = Console
appender.console.name = console
appender.console.layout.type = PatternLayout
appender.console.layout.pattern = [%d] %p %m (%c)%n
rootLogger.level = INFO
rootLogger.appenderRef.console.ref = console
logger.kafka.name = kafka
logger.kafka.level = WARN
logger.kafkaorg.name = org.apache.kafka
logger.kafkaorg.level = WARN
logger.connectrt.name = org.apache.kafka.connect.runtime.Worker
logger.connectrt.level = INFO
logger.reflections.name = org.reflections
logger.reflections.level = ERROR
"""


def properties(values: dict) -> str:
    """Format a dict as a Java properties file."""
    return "".join(f"{key}={value}\n" for key, value in values.items())


def kafka_properties(node: int = 1) -> str:
    """One KRaft node on loopback, broker and controller at once (a voter of the quorum)."""
    port, controller = t.KAFKA_PORTS[node - 1], t.KAFKA_CONTROLLER_PORTS[node - 1]
    voters = ",".join(f"{n}@{t.HOST}:{c}" for n, c in enumerate(t.KAFKA_CONTROLLER_PORTS, start=1))
    rf, isr = t.REPLICATION_FACTOR, t.MIN_INSYNC_REPLICAS
    return properties(
        {
            "process.roles": "broker,controller",
            "node.id": node,
            "controller.quorum.voters": voters,
            "listeners": f"BROKER://{t.HOST}:{port},CONTROLLER://{t.HOST}:{controller}",
            "advertised.listeners": f"BROKER://{t.HOST}:{port}",
            "listener.security.protocol.map": f"BROKER:{PROTOCOL},CONTROLLER:{PROTOCOL}",
            "controller.listener.names": "CONTROLLER",
            "inter.broker.listener.name": "BROKER",
            "log.dirs": kafka_data(node),
            "num.partitions": t.TOPIC_PARTITIONS,
            "default.replication.factor": rf,
            "min.insync.replicas": isr,
            "offsets.topic.replication.factor": rf,
            "offsets.topic.num.partitions": 5,
            "transaction.state.log.replication.factor": rf,
            "transaction.state.log.min.isr": isr,
            "share.coordinator.state.topic.replication.factor": rf,
            "share.coordinator.state.topic.min.isr": isr,
            "group.initial.rebalance.delay.ms": 0,
            "log.retention.hours": 168,
            # the active controller appends a no-op record to the metadata log this often, only
            # to show it is alive (KIP-835): every 500 ms by default, 0.2 % of a core at rest
            "metadata.max.idle.interval.ms": 5000,
            # pools sized for two cores, not a server: every idle pool thread wakes a few times a
            # second; 2 request handlers per listener instead of 8: 0.4 points of a core less at
            # rest, nothing measurable under load. Network threads stay at 3: one per listener
            # gave the only p99 spikes above 80 ms at 400 writes/s (bench/README.md, tenth round)
            "num.io.threads": 2,
            "background.threads": 2,
            "group.coordinator.threads": 1,
        }
        | broker_security()
        | liveness(BROKER_LIVENESS)
    )


def jaas(login_module: str, user: str, password: str, **more: str) -> str:
    """One JAAS login entry, as Kafka reads it from a sasl.jaas.config property."""
    options = {"username": user, "password": password} | more
    return f"{login_module} required " + " ".join(f'{k}="{v}"' for k, v in options.items()) + ";"


def broker_security() -> dict:
    """Every client authenticates (SCRAM), every request is authorized; `admin` is the brokers.

    The controller listener takes PLAIN with a static user: SCRAM credentials live in the
    metadata log the controllers serve, so controllers cannot authenticate each other with them.
    """
    password = kafka_passwords()[ADMIN]
    return {
        "sasl.enabled.mechanisms": MECHANISM,
        "sasl.mechanism.inter.broker.protocol": MECHANISM,
        f"listener.name.broker.{MECHANISM.lower()}.sasl.jaas.config": jaas(
            SCRAM_LOGIN, ADMIN, password
        ),
        "listener.name.controller.sasl.enabled.mechanisms": "PLAIN",
        "sasl.mechanism.controller.protocol": "PLAIN",
        "listener.name.controller.plain.sasl.jaas.config": jaas(
            PLAIN_LOGIN, ADMIN, password, **{f"user_{ADMIN}": password}
        ),
        "authorizer.class.name": "org.apache.kafka.metadata.authorizer.StandardAuthorizer",
        "allow.everyone.if.no.acl.found": "false",
        "super.users": f"User:{ADMIN}",
    } | (broker_tls() if t.CLUSTER else {})


def broker_tls() -> dict:
    """The brokers' certificate and the CA they check each other against (PEM, stack/tls.py)."""
    return {
        "ssl.keystore.type": "PEM",
        "ssl.keystore.location": BROKER_FILE,
        "ssl.truststore.type": "PEM",
        "ssl.truststore.location": t.STATE_CA,
    }


def client_security(user: str | None) -> dict:
    """A Java client's SASL (in a cluster also TLS) settings; with no user, no login of its own."""
    settings = {"security.protocol": PROTOCOL, "sasl.mechanism": MECHANISM}
    if user:
        settings["sasl.jaas.config"] = jaas(SCRAM_LOGIN, user, kafka_passwords()[user])
    if t.CLUSTER:
        settings |= {"ssl.truststore.type": "PEM", "ssl.truststore.location": t.STATE_CA}
    return settings


def connect_security() -> dict:
    """The worker logs in as `connect`; its task clients log in as each connector's principal.

    Task producers and admins get no credentials from the worker: a connector without its own
    principal (producer.override.sasl.jaas.config) cannot write anything.
    """
    worker = client_security("connect")
    tasks = client_security(None)
    return (
        worker
        | {
            f"{client}.{key}": value
            for client in ("producer", "admin")
            for key, value in tasks.items()
        }
        | {
            # connectors may choose their login, nothing else of their clients' settings
            "connector.client.config.override.policy": "Allowlist",
            "connector.client.config.override.allowlist": "sasl.jaas.config",
            "rest.extension.classes": f"{BASIC_AUTH}.BasicAuthSecurityRestExtension",
        }
    )


def connect_rest_files() -> dict[str, str]:
    """The JAAS file of Connect's REST login and the users file it reads (owner-only)."""
    users = kafka_passwords()
    jaas_file = (
        "KafkaConnect {\n"
        f"  {BASIC_AUTH}.PropertyFileLoginModule required\n"
        f'  file="{CONNECT_REST_USERS_FILE}";\n'
        "};\n"
    )
    lines = "".join(f"{user}: {users[f'rest:{user}']}\n" for user in CONNECT_REST_USERS)
    return {CONNECT_JAAS.name: jaas_file, CONNECT_REST_USERS_FILE.name: lines}


def kafka_data(node: int = 1):
    """The log directory of broker `node`: one per broker, apart from the single node's."""
    return t.DATA / (f"kafka-cluster-{node}" if t.CLUSTER else "kafka")


def connect_properties(worker: int = 1) -> str:
    """Distributed Kafka Connect worker; connector configs read secrets from its environment."""
    json = "org.apache.kafka.connect.json.JsonConverter"
    url, port = t.CONNECT_URLS[worker - 1], t.CONNECT_PORTS[worker - 1]
    rf = t.REPLICATION_FACTOR
    return properties(
        {
            "bootstrap.servers": t.BOOTSTRAP_SERVERS,
            "group.id": "cdc-connect",
            "key.converter": json,
            "value.converter": json,
            "key.converter.schemas.enable": "false",
            "value.converter.schemas.enable": "false",
            "config.storage.topic": "connect-configs",
            "offset.storage.topic": "connect-offsets",
            "status.storage.topic": "connect-status",
            "config.storage.replication.factor": rf,
            "offset.storage.replication.factor": rf,
            "status.storage.replication.factor": rf,
            # each flush of a task's offsets also asks the broker for the offset topic's end
            # (ListOffsets): at 1 s, two requests a second at rest; a crash replays at most 10 s
            # of changes, which the sink skips as already applied (bench/README.md, eighth round)
            "offset.flush.interval.ms": 10_000,
            # the worker's own consumers of its config, offset and status topics: the broker
            # answers as soon as a record is there, so a long wait only makes an idle worker ask
            # less often (fetch.min.bytes 1; bench/README.md, at rest)
            "fetch.max.wait.ms": 5000,
            "listeners": url,
            "rest.advertised.host.name": t.HOST,
            "rest.advertised.port": port,
            "plugin.path": t.LIB / "plugins",
            "plugin.discovery": "only_scan",
            "config.providers": "env",
            "config.providers.env.class": ENV_PROVIDER,
            # a change event leaves the worker within 20 ms, and the events of those 20 ms leave
            # as one produce request, so the broker, the sink and the target database handle them
            # as one batch: at 200 writes/s 0.4 CPU-ms less per synced write than at 5 ms, for
            # p50 +8 ms (bench/README.md, sixth round)
            "producer.linger.ms": 20,
            # but a backlog should leave in large batches
            "producer.batch.size": 262144,
            # a change is written once, and only once every in-sync replica has it
            "producer.acks": "all",
            "producer.enable.idempotence": "true",
        }
        | connect_security()
        | liveness(WORKER_LIVENESS)
    )


# (single node, cluster). A single node has nobody to fail over to and keeps the defaults; in a
# cluster, a broker killed without a goodbye is fenced by the controller after 3 s without a
# heartbeat (not 9 s), and only then do its partitions get new leaders and its followers leave
# the ISRs that acks=all writes wait for; replica.lag.time.max.ms (30 s) drops a follower that
# hangs rather than dies. Shorter on one busy machine would fence a broker that is only starved.
BROKER_LIVENESS = {
    "broker.heartbeat.interval.ms": (2000, 500),
    "broker.session.timeout.ms": (9000, 3000),
    "replica.lag.time.max.ms": (30_000, 10_000),
}
# a worker killed without a goodbye: the group notices after 6 s (the brokers' least session
# timeout) and its tasks move at once, with no delay held open for it to come back (5 min)
WORKER_LIVENESS = {
    "scheduled.rebalance.max.delay.ms": (300_000, 0),
    "session.timeout.ms": (10_000, 6000),
    "heartbeat.interval.ms": (3000, 2000),
    # a produce request caught by a broker's death is given up after 5 s, not 30, and sent again
    # to the partition's new leader (idempotence keeps it from being written twice)
    "producer.request.timeout.ms": (30_000, 5000),
}


def liveness(settings: dict) -> dict:
    """The value of each liveness setting for this stack's shape."""
    return {key: pair[1] if t.CLUSTER else pair[0] for key, pair in settings.items()}


def program(component: Component) -> str:
    """One [program:x] section of supervisord.conf."""
    lines = [
        f"[program:{component.name}]",
        f"command={shlex.join(component.command)}",
        f"directory={component.directory}",
        "autostart=false",
        "autorestart=unexpected",
        "startsecs=1",
        "startretries=3",
        f"stopsignal={component.stopsignal}",
        "stopwaitsecs=30",
        "stopasgroup=true",
        "killasgroup=true",
        "redirect_stderr=true",
        f"stdout_logfile={t.LOGS / component.name}.log",
        "stdout_logfile_maxbytes=50MB",
        "stdout_logfile_backups=3",
    ]
    if component.user:
        lines.append(f"user={component.user}")
    if component.env:
        env = ",".join(f'{key}="{value}"' for key, value in component.env.items())
        lines.append(f"environment={env}")
    return "\n".join(lines) + "\n"


def supervisord_conf(components: list[Component]) -> str:
    """supervisord.conf: a unix socket for control and one program per component."""
    head = f"""\
[unix_http_server]
file={t.RUN / "supervisor.sock"}
chmod=0700

[supervisord]
logfile={t.LOGS / "supervisord.log"}
pidfile={t.RUN / "supervisord.pid"}
childlogdir={t.LOGS}
directory={t.ROOT}

[rpcinterface:supervisor]
supervisor.rpcinterface_factory = supervisor.rpcinterface:make_main_rpcinterface

[supervisorctl]
serverurl=unix://{t.RUN / "supervisor.sock"}
"""
    return head + "\n" + "\n".join(program(c) for c in components)


def kafka_conf(node: int) -> str:
    """The properties file of broker `node`."""
    return f"{t.broker_name(node)}.properties"


def connect_conf(worker: int) -> str:
    """The properties file of Connect worker `worker`."""
    return f"{t.connect_name(worker)}.properties"


def write_all(components: list[Component]) -> set[str]:
    """Write every config file the stack needs, owner-only; return the names whose content changed.

    supervisord.conf holds the apps' secrets in their environment lines.
    """
    t.CONF.mkdir(parents=True, exist_ok=True)
    files = {"log4j2.properties": LOG4J2, "supervisord.conf": supervisord_conf(components)}
    for node in range(1, t.BROKERS + 1):
        files[kafka_conf(node)] = kafka_properties(node)
    for worker in range(1, t.CONNECT_WORKERS + 1):
        files[connect_conf(worker)] = connect_properties(worker)
    files |= connect_rest_files()
    changed = set()
    for name, text in files.items():
        path = t.CONF / name
        if not path.exists() or path.read_text() != text:
            changed.add(name)
        write_private(path, text)
    return changed
