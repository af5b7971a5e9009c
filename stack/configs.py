"""Render the configuration files of supervisord, Kafka and Kafka Connect into .stack/conf."""

import shlex
from collections.abc import Callable
from dataclasses import dataclass

from ordersync import topology as t
from ordersync.kafka.access import ADMIN, CONNECT_OFFSETS
from ordersync.kafka.client import MECHANISM
from stack.components import Component
from stack.secrets import CONNECT_REST_USERS, kafka_passwords, write_private
from stack.tls import BROKER_FILE
from stack.topology import CONF, DATA, LIB, LOGS, ROOT, RUN, STATE_CA, broker_name, connect_name

ENV_PROVIDER = "org.apache.kafka.common.config.provider.EnvVarConfigProvider"
SCRAM_LOGIN = "org.apache.kafka.common.security.scram.ScramLoginModule"
PLAIN_LOGIN = "org.apache.kafka.common.security.plain.PlainLoginModule"
BASIC_AUTH = "org.apache.kafka.connect.rest.basic.auth.extension"
CONNECT_JAAS = CONF / "connect-jaas.conf"
CONNECT_REST_USERS_FILE = CONF / "connect-rest-users.properties"

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
logger.raft.name = org.apache.kafka.raft
logger.raft.level = INFO
logger.connectrt.name = org.apache.kafka.connect.runtime.Worker
logger.connectrt.level = INFO
logger.herder.name = org.apache.kafka.connect.runtime.distributed
logger.herder.level = INFO
logger.reflections.name = org.reflections
logger.reflections.level = ERROR
"""


def properties(values: dict) -> str:
    """Format a dict as a Java properties file."""
    return "".join(f"{key}={value}\n" for key, value in values.items())


@dataclass(frozen=True)
class Shaped:
    """A setting whose value depends on the stack's shape: a single node, or a cluster."""

    single: int
    cluster: int


@dataclass(frozen=True)
class Site:
    """Where brokers and workers run: what the native stack and compose do differently."""

    tls: bool
    broker_key: str  # the brokers' key and certificate (PEM)
    ca: str  # the CA every client checks the brokers against (PEM)
    listeners: tuple[str, ...]  # the brokers' client listeners, the inter-broker one first
    password: Callable[[str], str]  # a principal's password as a file holds it
    partitions: object
    replication: object
    min_isr: object
    shaped: Callable[[Shaped], object] = lambda value: value.cluster if t.CLUSTER else value.single

    @property
    def protocol(self) -> str:
        """The client protocol: SASL, over TLS where the site speaks it."""
        return "SASL_SSL" if self.tls else "SASL_PLAINTEXT"


def native() -> Site:
    """The native stack: loopback, TLS in cluster mode only, the passwords in the files."""
    return Site(
        tls=t.CLUSTER,
        broker_key=str(BROKER_FILE),
        ca=str(STATE_CA),
        listeners=("BROKER",),
        password=lambda user: kafka_passwords()[user],
        partitions=t.TOPIC_PARTITIONS,
        replication=t.REPLICATION_FACTOR,
        min_isr=t.MIN_INSYNC_REPLICAS,
    )


def shaped(settings: dict, site: Site) -> dict:
    """The settings with each shaped value as the site gives it."""
    return {k: site.shaped(v) if isinstance(v, Shaped) else v for k, v in settings.items()}


def kafka_properties(node: int = 1) -> str:
    """One KRaft node on loopback, broker and controller at once (a voter of the quorum)."""
    port, controller = t.KAFKA_PORTS[node - 1], t.KAFKA_CONTROLLER_PORTS[node - 1]
    voters = ",".join(f"{n}@{t.HOST}:{c}" for n, c in enumerate(t.KAFKA_CONTROLLER_PORTS, start=1))
    where = {
        "node.id": node,
        "controller.quorum.voters": voters,
        "listeners": f"BROKER://{t.HOST}:{port},CONTROLLER://{t.HOST}:{controller}",
        "advertised.listeners": f"BROKER://{t.HOST}:{port}",
        "log.dirs": kafka_data(node),
    }
    return properties(where | broker_settings(native()))


def broker_settings(site: Site) -> dict:
    """What every broker of every site is given, its place aside."""
    rf, isr = site.replication, site.min_isr
    listeners = ",".join(f"{name}:{site.protocol}" for name in (*site.listeners, "CONTROLLER"))
    return (
        {
            "process.roles": "broker,controller",
            "listener.security.protocol.map": listeners,
            "controller.listener.names": "CONTROLLER",
            "inter.broker.listener.name": site.listeners[0],
            "num.partitions": site.partitions,
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
            # gave p99 spikes above 80 ms at 400 writes/s
            "num.io.threads": 2,
            "background.threads": 2,
            "group.coordinator.threads": 1,
        }
        | broker_security(site)
        | shaped(BROKER_LIVENESS, site)
    )


def jaas(login_module: str, user: str, password: str, **more: str) -> str:
    """One JAAS login entry, as Kafka reads it from a sasl.jaas.config property."""
    options = {"username": user, "password": password} | more
    return f"{login_module} required " + " ".join(f'{k}="{v}"' for k, v in options.items()) + ";"


def broker_security(site: Site) -> dict:
    """Every client authenticates (SCRAM), every request is authorized; `admin` is the brokers.

    The controller listener takes PLAIN with a static user: SCRAM credentials live in the
    metadata log the controllers serve, so controllers cannot authenticate each other with them.
    """
    password = site.password(ADMIN)
    scram = jaas(SCRAM_LOGIN, ADMIN, password)
    return {
        "sasl.enabled.mechanisms": MECHANISM,
        "sasl.mechanism.inter.broker.protocol": MECHANISM,
        **{
            f"listener.name.{name.lower()}.{MECHANISM.lower()}.sasl.jaas.config": scram
            for name in site.listeners
        },
        "listener.name.controller.sasl.enabled.mechanisms": "PLAIN",
        "sasl.mechanism.controller.protocol": "PLAIN",
        "listener.name.controller.plain.sasl.jaas.config": jaas(
            PLAIN_LOGIN, ADMIN, password, **{f"user_{ADMIN}": password}
        ),
        "authorizer.class.name": "org.apache.kafka.metadata.authorizer.StandardAuthorizer",
        "allow.everyone.if.no.acl.found": "false",
        "super.users": f"User:{ADMIN}",
    } | (broker_tls(site) if site.tls else {})


def broker_tls(site: Site) -> dict:
    """The brokers' certificate and the CA they check each other against (PEM, stack/tls.py)."""
    return {
        "ssl.keystore.type": "PEM",
        "ssl.keystore.location": site.broker_key,
        "ssl.truststore.type": "PEM",
        "ssl.truststore.location": site.ca,
    }


def client_security(user: str | None, site: Site | None = None) -> dict:
    """A Java client's SASL (with TLS, also TLS) settings; with no user, no login of its own."""
    site = site or native()
    settings = {"security.protocol": site.protocol, "sasl.mechanism": MECHANISM}
    if user:
        settings["sasl.jaas.config"] = jaas(SCRAM_LOGIN, user, site.password(user))
    if site.tls:
        settings |= {"ssl.truststore.type": "PEM", "ssl.truststore.location": site.ca}
    return settings


def connect_security(site: Site) -> dict:
    """The worker logs in as `connect`; its task clients log in as each connector's principal.

    Task producers and admins get no credentials from the worker: a connector without its own
    principal (producer.override.sasl.jaas.config) cannot write anything.
    """
    worker = client_security("connect", site)
    tasks = client_security(None, site)
    return (
        worker
        | {
            f"{client}.{key}": value
            for client in ("producer", "consumer", "admin")
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
    return DATA / (f"kafka-cluster-{node}" if t.CLUSTER else "kafka")


def connect_properties(worker: int = 1) -> str:
    """Distributed Kafka Connect worker; connector configs read secrets from its environment."""
    url, port = t.CONNECT_URLS[worker - 1], t.CONNECT_PORTS[worker - 1]
    where = {
        "bootstrap.servers": t.BOOTSTRAP_SERVERS,
        "listeners": url,
        "rest.advertised.host.name": t.HOST,
        "rest.advertised.port": port,
        "plugin.path": LIB / "plugins",
    }
    return properties(where | worker_settings(native()))


def worker_settings(site: Site) -> dict:
    """What every Connect worker of every site is given, its place aside."""
    json = "org.apache.kafka.connect.json.JsonConverter"
    rf = site.replication
    return (
        {
            "group.id": "cdc-connect",
            "key.converter": json,
            "value.converter": json,
            "key.converter.schemas.enable": "false",
            "value.converter.schemas.enable": "false",
            "config.storage.topic": "connect-configs",
            "offset.storage.topic": CONNECT_OFFSETS,
            "status.storage.topic": "connect-status",
            "config.storage.replication.factor": rf,
            "offset.storage.replication.factor": rf,
            "status.storage.replication.factor": rf,
            # each flush of a task's offsets also asks the broker for the offset topic's end
            # (ListOffsets): at 1 s, two requests a second at rest; a crash replays at most 10 s
            # of changes, which the sink skips as already applied
            "offset.flush.interval.ms": 10_000,
            # the worker's own consumers of its config, offset and status topics: the broker
            # answers as soon as a record is there, so a long wait only makes an idle worker ask
            # less often (fetch.min.bytes 1)
            "fetch.max.wait.ms": 5000,
            "plugin.discovery": "only_scan",
            "config.providers": "env",
            "config.providers.env.class": ENV_PROVIDER,
            # a change event leaves the worker within 20 ms, and the events of those 20 ms leave
            # as one produce request, so the broker, the sink and the target database handle them
            # as one batch: at 200 writes/s 0.4 CPU-ms less per synced write than at 5 ms, for
            # p50 +8 ms
            "producer.linger.ms": 20,
            # but a backlog should leave in large batches
            "producer.batch.size": 262144,
            # a change is written once, and only once every in-sync replica has it
            "producer.acks": "all",
            "producer.enable.idempotence": "true",
        }
        | connect_security(site)
        | shaped(WORKER_LIVENESS, site)
    )


# A single node has nobody to fail over to and keeps the defaults; in a cluster, a broker killed
# without a goodbye is fenced by the controller after 3 s without a heartbeat (not 9 s), and only
# then do its partitions get new leaders and its followers leave the ISRs that acks=all writes
# wait for; replica.lag.time.max.ms (30 s) drops a follower that hangs rather than dies. Shorter
# on one busy machine would fence a broker that is only starved.
BROKER_LIVENESS = {
    "broker.heartbeat.interval.ms": Shaped(2000, 500),
    "broker.session.timeout.ms": Shaped(9000, 3000),
    "replica.lag.time.max.ms": Shaped(30_000, 10_000),
    # Every node is also a voter of the metadata quorum. When the active controller dies, the
    # others stand for election after 1 s without its answer (not 2 s), and a split vote is
    # retried within 0.5 s (not 1 s); the new controller then gives every broker a fresh 3 s
    # session, so a dead broker that was also the controller is fenced 4-5 s after its death
    # (8 s in one run of three) instead of 5-8 s. Pre-vote (KIP-996) keeps a slow voter from
    # deposing a live leader.
    "controller.quorum.fetch.timeout.ms": Shaped(2000, 1000),
    "controller.quorum.election.timeout.ms": Shaped(1000, 500),
    "controller.quorum.election.backoff.max.ms": Shaped(1000, 500),
    # lets the Connect workers' group run a 4.5 s session (WORKER_LIVENESS); 6 s by default
    "group.min.session.timeout.ms": Shaped(6000, 4000),
}
# A worker killed without a goodbye: the group notices after 4.5 s (a 6 s floor lowered on the
# brokers for it) and its tasks move at once, with no delay held open for it to come back (5 min);
# the surviving worker hears of it at its next heartbeat, within 1.5 s. A worker that cannot
# reach its group's coordinator for one heartbeat interval revokes its tasks and rejoins
# (Connect's WorkerCoordinator), and the coordinator's broker, once dead, is named coordinator
# until it is fenced (3-5 s); but every time the dead address's reconnect backoff lapses, the
# worker counts the coordinator as found again. A heartbeat interval (1.5 s) longer than the
# longest backoff (0.5 s, 0.6 s with jitter) keeps the tasks running through the coordinator's
# move; at 1 s with a 1 s backoff both tasks restarted on such a kill (8.5-22 s stalls).
WORKER_LIVENESS = {
    "scheduled.rebalance.max.delay.ms": Shaped(300_000, 0),
    "session.timeout.ms": Shaped(10_000, 4500),
    "heartbeat.interval.ms": Shaped(3000, 1500),
    "reconnect.backoff.max.ms": Shaped(1000, 500),
    # a produce request caught by a broker's death is given up after 5 s, not 30, and sent again
    # to the partition's new leader (idempotence keeps it from being written twice)
    "producer.request.timeout.ms": Shaped(30_000, 5000),
    # Debezium's commit, in the task's own thread, reads the stored offsets back, and so the end
    # offsets of connect-offsets through the task's admin client (connectors/register.py): a
    # call caught on a dead leader waits out its whole deadline (60 s) before it is retried on
    # the new leader, and the task sends nothing meanwhile. 3 s: the controller fences a dead
    # broker within 3 s (BROKER_LIVENESS), so the retry finds the new leader.
    "admin.request.timeout.ms": Shaped(40_000, 3000),
    "admin.default.api.timeout.ms": Shaped(60_000, 3000),
    # the worker's own clients (its config, offsets and status topics, the shared admin) give
    # up a call on a dead broker after 5 s, not 40-60; at 3 s a loaded cluster refused produces
    # it would have answered
    "request.timeout.ms": Shaped(40_000, 5000),
    "default.api.timeout.ms": Shaped(60_000, 5000),
}


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
        f"stdout_logfile={LOGS / component.name}.log",
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
file={RUN / "supervisor.sock"}
chmod=0700

[supervisord]
logfile={LOGS / "supervisord.log"}
pidfile={RUN / "supervisord.pid"}
childlogdir={LOGS}
directory={ROOT}

[rpcinterface:supervisor]
supervisor.rpcinterface_factory = supervisor.rpcinterface:make_main_rpcinterface

[supervisorctl]
serverurl=unix://{RUN / "supervisor.sock"}
"""
    return head + "\n" + "\n".join(program(c) for c in components)


def kafka_conf(node: int) -> str:
    """The properties file of broker `node`."""
    return f"{broker_name(node)}.properties"


def connect_conf(worker: int) -> str:
    """The properties file of Connect worker `worker`."""
    return f"{connect_name(worker)}.properties"


def write_all(components: list[Component]) -> set[str]:
    """Write every config file the stack needs, owner-only; return the names whose content changed.

    supervisord.conf holds the apps' secrets in their environment lines.
    """
    CONF.mkdir(parents=True, exist_ok=True)
    files = {"log4j2.properties": LOG4J2, "supervisord.conf": supervisord_conf(components)}
    for node in range(1, t.BROKERS + 1):
        files[kafka_conf(node)] = kafka_properties(node)
    for worker in range(1, t.CONNECT_WORKERS + 1):
        files[connect_conf(worker)] = connect_properties(worker)
    files |= connect_rest_files()
    changed = set()
    for name, text in files.items():
        path = CONF / name
        if not path.exists() or path.read_text() != text:
            changed.add(name)
        write_private(path, text)
    return changed
