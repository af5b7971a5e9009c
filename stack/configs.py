"""Render the configuration files of supervisord, Kafka and Kafka Connect into .stack/conf."""

import shlex

from stack import topology as t
from stack.components import Component
from stack.secrets import write_private

ENV_PROVIDER = "org.apache.kafka.common.config.provider.EnvVarConfigProvider"

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


def kafka_properties() -> str:
    """Single-node KRaft broker and controller on loopback."""
    return properties(
        {
            "process.roles": "broker,controller",
            "node.id": 1,
            "controller.quorum.voters": f"1@{t.HOST}:{t.KAFKA_CONTROLLER_PORT}",
            "listeners": f"PLAINTEXT://{t.HOST}:{t.KAFKA_PORT},CONTROLLER://{t.HOST}:{t.KAFKA_CONTROLLER_PORT}",
            "advertised.listeners": f"PLAINTEXT://{t.HOST}:{t.KAFKA_PORT}",
            "controller.listener.names": "CONTROLLER",
            "inter.broker.listener.name": "PLAINTEXT",
            "log.dirs": t.DATA / "kafka",
            "num.partitions": 1,
            "offsets.topic.replication.factor": 1,
            "offsets.topic.num.partitions": 5,
            "transaction.state.log.replication.factor": 1,
            "transaction.state.log.min.isr": 1,
            "share.coordinator.state.topic.replication.factor": 1,
            "share.coordinator.state.topic.min.isr": 1,
            "group.initial.rebalance.delay.ms": 0,
            "log.retention.hours": 168,
        }
    )


def connect_properties() -> str:
    """Distributed Kafka Connect worker; connector configs read secrets from its environment."""
    json = "org.apache.kafka.connect.json.JsonConverter"
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
            "config.storage.replication.factor": 1,
            "offset.storage.replication.factor": 1,
            "status.storage.replication.factor": 1,
            "offset.flush.interval.ms": 1000,
            "listeners": t.CONNECT_URL,
            "rest.advertised.host.name": t.HOST,
            "rest.advertised.port": t.CONNECT_PORT,
            "plugin.path": t.LIB / "plugins",
            "plugin.discovery": "only_scan",
            "config.providers": "env",
            "config.providers.env.class": ENV_PROVIDER,
            # a change event should leave the worker at once, not wait to fill a batch
            "producer.linger.ms": 1,
            # but a backlog should leave in large batches
            "producer.batch.size": 262144,
        }
    )


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


def write_all(components: list[Component]) -> set[str]:
    """Write every config file the stack needs, owner-only; return the names whose content changed.

    supervisord.conf holds the apps' secrets in their environment lines.
    """
    t.CONF.mkdir(parents=True, exist_ok=True)
    files = {
        "log4j2.properties": LOG4J2,
        "kafka.properties": kafka_properties(),
        "connect.properties": connect_properties(),
        "supervisord.conf": supervisord_conf(components),
    }
    changed = set()
    for name, text in files.items():
        path = t.CONF / name
        if not path.exists() or path.read_text() != text:
            changed.add(name)
        write_private(path, text)
    return changed
