"""docker-compose.yml through the Compose Spec's reference loader, the one `docker compose` uses.

No Docker engine runs here, so a small pinned Go program (tests/stack/composeload) loads the file
with github.com/compose-spec/compose-go/v2: schema, interpolation, merges, depends_on. It is built
once into a cache folder, keyed by its sources.
"""

import json
import re

from connectors.kafka_setup import env_name
from ordersync.kafka.access import ADMIN
from stack import envfile, topology
from tests.support.compose import load

COMPOSE = topology.ROOT / "docker-compose.yml"


def test_the_example_env_fails_naming_every_missing_secret(composeload):
    result = load(composeload, envfile.EXAMPLE)
    assert result.returncode == 1, result.stdout[:500]
    named = set(re.findall(r"required variable (\w+) is missing a value", result.stderr))
    example = envfile.assignments(envfile.EXAMPLE.read_text())
    blanks = {name for name, value in example.items() if not value}
    assert blanks, ".env.example leaves no secret blank"
    assert named == blanks, result.stderr


def test_a_generated_env_loads_cleanly_with_every_dependency_defined(composeload, tmp_path):
    env_file = tmp_path / ".env"
    envfile.write(env_file)
    result = load(composeload, env_file)
    assert result.returncode == 0, result.stderr
    services = json.loads(result.stdout)["services"]
    for name, service in services.items():
        # a dependency outside the active profiles may only be an optional one
        missing = set(service.get("depends_on", {})) - set(services)
        assert all(not service["depends_on"][dep]["required"] for dep in missing), name
    secrets = envfile.assignments(env_file.read_text())
    store = services["store-app"]["environment"]
    assert store["SECRET_KEY"] == secrets["STORE_SECRET_KEY"]
    assert store["DATABASE_URL"].startswith(
        f"postgresql://sync_app:{secrets['SYNC_APP_PASSWORD']}@"
    )


def test_each_kafka_login_resolves_to_the_password_kafka_setup_creates(composeload, tmp_path):
    env_file = tmp_path / ".env"
    envfile.write(env_file)
    services = json.loads(load(composeload, env_file).stdout)["services"]
    created = services["kafka-setup"]["environment"]
    for name, service in services.items():
        environment = service.get("environment") or {}
        if "KAFKA_USERNAME" in environment and name != "kafka-setup":
            user = environment["KAFKA_USERNAME"]
            assert environment["KAFKA_PASSWORD"] == created[env_name(user)], name
    assert created["KAFKA_PASSWORD"] == envfile.assignments(env_file.read_text())[env_name(ADMIN)]
