"""`python -m connectors.kafka_setup`: make Kafka's principals, ACLs and topics what
ordersync.kafka.access declares, logged in as `admin`. Idempotent; the native launcher runs it at
every `make up`, compose's one-shot `kafka-setup` service once.

Each principal's password comes from KAFKA_PASSWORD_<NAME> (dashes as underscores: the sink reading
store's changes is KAFKA_PASSWORD_SINK_STORE); the admin login from KAFKA_USERNAME/KAFKA_PASSWORD.
Credentials are upserted (a changed password takes effect for new logins at once), ACLs of our
principals that the declaration no longer has are deleted, missing topics are created.
"""

import logging
import os
import sys

from confluent_kafka import KafkaError, KafkaException
from confluent_kafka.admin import (
    AclBinding,
    AclBindingFilter,
    AclOperation,
    AclPermissionType,
    AdminClient,
    AlterConfigOpType,
    ConfigEntry,
    ConfigResource,
    NewTopic,
    ResourcePatternType,
    ResourceType,
    ScramCredentialInfo,
    ScramMechanism,
    UserScramCredentialUpsertion,
)

from ordersync.environment import PARTITIONS, REPLICATION, BadSetting, setting, whole
from ordersync.kafka.access import PRINCIPALS, Principal, topic_settings, topics
from ordersync.kafka.client import client_settings

log = logging.getLogger("kafka-setup")
# PBKDF2 rounds of each stored SCRAM credential (Kafka's minimum is 4096)
ITERATIONS = 8192
RESOURCES = {"topic": ResourceType.TOPIC, "group": ResourceType.GROUP}


def bindings(principal: Principal) -> set[AclBinding]:
    """The ACL bindings of one declared principal."""
    return {
        AclBinding(
            RESOURCES[allow.resource],
            allow.name,
            ResourcePatternType.PREFIXED if allow.prefixed else ResourcePatternType.LITERAL,
            f"User:{principal.name}",
            "*",
            AclOperation[operation],
            AclPermissionType.ALLOW,
        )
        for allow in principal.allows
        for operation in allow.operations
    }


def wanted() -> set[AclBinding]:
    """Every declared ACL binding."""
    return set().union(*(bindings(p) for p in PRINCIPALS))


def current(admin: AdminClient) -> set[AclBinding]:
    """The ACL bindings the cluster holds for our principals."""
    everything = AclBindingFilter(
        ResourceType.ANY,
        None,
        ResourcePatternType.ANY,
        None,
        None,
        AclOperation.ANY,
        AclPermissionType.ANY,
    )
    ours = {f"User:{p.name}" for p in PRINCIPALS}
    return {b for b in admin.describe_acls(everything).result(timeout=30) if b.principal in ours}


def as_filter(binding: AclBinding) -> AclBindingFilter:
    """A filter matching exactly one binding (to delete it)."""
    return AclBindingFilter(
        binding.restype,
        binding.name,
        binding.resource_pattern_type,
        binding.principal,
        binding.host,
        binding.operation,
        binding.permission_type,
    )


def sync_acls(admin: AdminClient) -> tuple[int, int]:
    """Create the declared bindings the cluster lacks, delete ours it no longer declares."""
    have, want = current(admin), wanted()
    missing, stale = want - have, have - want
    for future in admin.create_acls(list(missing)).values() if missing else []:
        future.result(timeout=30)
    if stale:
        for future in admin.delete_acls([as_filter(b) for b in stale]).values():
            future.result(timeout=30)
    return len(missing), len(stale)


def upsert_users(admin: AdminClient, passwords: dict[str, str]) -> None:
    """Set each principal's SCRAM credential from its password."""
    info = ScramCredentialInfo(ScramMechanism.SCRAM_SHA_512, ITERATIONS)
    changes = [
        UserScramCredentialUpsertion(name, info, password.encode())
        for name, password in passwords.items()
    ]
    for future in admin.alter_user_scram_credentials(changes).values():
        future.result(timeout=30)


def create_topics(admin: AdminClient, partitions: int, replication: int) -> list[str]:
    """Create the declared topics that are missing; return their names."""
    existing = admin.list_topics(timeout=30).topics
    new = [
        NewTopic(n, partitions, replication, config=topic_settings(n))
        for n in topics()
        if n not in existing
    ]
    created = []
    for name, future in admin.create_topics(new).items() if new else []:
        try:
            future.result(timeout=30)
            created.append(name)
        except KafkaException as error:  # another setup won the race
            if error.args[0].code() != KafkaError.TOPIC_ALREADY_EXISTS:
                raise
    return created


def configure_topics(admin: AdminClient) -> None:
    """Give every declared topic its own settings, also one created before they were declared."""
    resources = [
        ConfigResource(
            ConfigResource.Type.TOPIC,
            name,
            incremental_configs=[
                ConfigEntry(key, value, incremental_operation=AlterConfigOpType.SET)
                for key, value in topic_settings(name).items()
            ],
        )
        for name in topics()
        if topic_settings(name)
    ]
    for future in admin.incremental_alter_configs(resources).values():
        future.result(timeout=30)


def apply(kafka: dict, passwords: dict[str, str], partitions: int, replication: int) -> list[str]:
    """Users, ACLs and topics as declared; return what changed, for people."""
    admin = AdminClient(kafka)
    upsert_users(admin, passwords)
    added, removed = sync_acls(admin)
    created = create_topics(admin, partitions, replication)
    configure_topics(admin)
    notes = [f"{n} ACLs added" for n in [added] if n] + [
        f"{n} ACLs removed" for n in [removed] if n
    ]
    return notes + [f"created topic {name}" for name in created]


def env_name(principal: str) -> str:
    """The variable holding a principal's password."""
    return "KAFKA_PASSWORD_" + principal.upper().replace("-", "_")


def main() -> int:
    """Apply the declaration with passwords and sizes from the environment."""
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s %(message)s")
    try:
        kafka = client_settings()
        missing = [env_name(p.name) for p in PRINCIPALS if not os.environ.get(env_name(p.name))]
        if missing:
            raise BadSetting(f"set {', '.join(missing)} (make env writes them)")
        passwords = {p.name: os.environ[env_name(p.name)] for p in PRINCIPALS}
        partitions = setting(os.environ, "TOPIC_PARTITIONS", whole(*PARTITIONS), 1)
        replication = setting(os.environ, "TOPIC_REPLICATION_FACTOR", whole(*REPLICATION), 1)
    except BadSetting as error:
        print(error, file=sys.stderr)
        return 1
    for note in apply(kafka, passwords, partitions, replication):
        log.info(note)
    log.info("kafka principals, ACLs and topics as declared")
    return 0


if __name__ == "__main__":
    sys.exit(main())
