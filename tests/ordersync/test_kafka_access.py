"""The Kafka principals' declaration keeps its promises: one writer per change topic, no wildcards
that write, every process of the stack logs in as a declared principal."""

from ordersync.kafka.access import ADMIN, BY_NAME, PRINCIPALS, USERS, topics
from ordersync.sync.mapping import SIDES, topic
from stack.components import all_components


def allowed(principal, operation: str, name: str) -> bool:
    """Whether a principal's ACLs allow an operation on a topic (literal, prefix or `*`)."""
    return any(
        allow.resource == "topic"
        and operation in allow.operations
        and (allow.name in ("*", name) or (allow.prefixed and name.startswith(allow.name)))
        for allow in principal.allows
    )


def test_only_each_sides_debezium_writes_its_change_topic():
    for side in SIDES:
        writers = {p.name for p in PRINCIPALS if allowed(p, "WRITE", topic(side))}
        assert writers == {f"debezium-{side}"}


def test_no_principal_writes_through_a_wildcard_or_holds_everything():
    for principal in PRINCIPALS:
        for allow in principal.allows:
            assert "ALL" not in allow.operations, principal.name
            if allow.name == "*" or allow.prefixed:
                assert not {"WRITE", "CREATE", "DELETE", "ALTER"} & set(allow.operations), (
                    principal.name
                )


def test_every_declared_topic_has_a_reader_and_a_writer():
    for name in topics():
        assert [p.name for p in PRINCIPALS if allowed(p, "READ", name)], name
        assert [p.name for p in PRINCIPALS if allowed(p, "WRITE", name)], name


def test_admin_is_the_only_super_user_and_not_a_job():
    assert ADMIN not in BY_NAME and ADMIN in USERS
    assert len(USERS) == len(set(USERS))


def test_every_process_of_the_stack_logs_in_as_a_declared_principal():
    users = {c.env["KAFKA_USERNAME"] for c in all_components() if "KAFKA_USERNAME" in c.env}
    assert users == {*(f"sink-{s}" for s in SIDES), *(f"app-{s}" for s in SIDES), "operator"}
    assert users <= set(BY_NAME)
