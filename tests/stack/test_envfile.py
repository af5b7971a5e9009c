"""`make env` writes a .env with a strong secret for every blank of .env.example, and keeps an
existing one's values."""

import re
import stat

from connectors.kafka_setup import env_name
from ordersync.kafka.access import USERS
from stack import envfile
from stack.secrets import CONNECT_REST_USERS

EXAMPLE = envfile.assignments(envfile.EXAMPLE.read_text())
SECRET = re.compile(r"[A-Za-z0-9_-]{43}")


def test_a_new_env_sets_every_variable_of_the_example(tmp_path):
    target = tmp_path / ".env"
    added = envfile.write(target)
    values = envfile.assignments(target.read_text())
    assert set(values) == set(EXAMPLE)
    blanks = {name for name, value in EXAMPLE.items() if not value}
    assert set(added) == blanks
    for name in blanks:
        assert SECRET.fullmatch(values[name]), name
    assert len({values[name] for name in blanks}) == len(blanks), "secrets are not unique"
    for name, value in EXAMPLE.items():
        if value:
            assert values[name] == value, name
    assert stat.S_IMODE(target.stat().st_mode) == 0o600


def test_an_existing_env_keeps_its_values_and_gains_what_it_lacks(tmp_path):
    kept, blank = sorted(name for name, value in EXAMPLE.items() if not value)[:2]
    target = tmp_path / ".env"
    target.write_text(f"{kept}=kept\n{blank}=\nEXTRA=mine\n")
    added = envfile.write(target)
    values = envfile.assignments(target.read_text())
    assert values[kept] == "kept" and values["EXTRA"] == "mine"
    assert SECRET.fullmatch(values[blank])
    assert set(values) == set(EXAMPLE) | {"EXTRA"}
    assert kept not in added and blank in added


def test_a_complete_env_is_left_as_it_is(tmp_path):
    target = tmp_path / ".env"
    envfile.write(target)
    before = target.read_text()
    assert envfile.write(target) == []
    assert target.read_text() == before


def test_the_example_has_a_blank_kafka_password_for_each_principal_and_no_other():
    """make env generates them; kafka-setup creates each principal from its own."""
    kafka = {name: value for name, value in EXAMPLE.items() if name.startswith("KAFKA_PASSWORD_")}
    assert kafka == dict.fromkeys((env_name(user) for user in USERS), "")


def test_the_example_has_a_blank_password_for_each_connect_rest_user():
    for user in CONNECT_REST_USERS:
        assert EXAMPLE[f"CONNECT_REST_PASSWORD_{user.upper()}"] == "", user
