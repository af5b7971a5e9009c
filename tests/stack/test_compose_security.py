"""docker-compose.yml's Kafka security: each job logs in as a declared principal of its own with
its own password, over TLS checked against the CA kafka-certs makes, Connect's REST API takes
logins, and no secret is written into the file. The brokers' and Connect's start commands run
here with the images' own programs replaced by stubs."""

import json
import os
import re
import shutil
import stat
import subprocess
from pathlib import Path

import pytest
import yaml
from cryptography import x509

from connectors.kafka_setup import env_name
from ordersync.kafka.access import ADMIN, PRINCIPALS, USERS, app, connect, operator, sink
from ordersync.sync.mapping import SIDES, other
from stack import envfile, topology
from stack.configs import CONNECT_JAAS, CONNECT_REST_USERS_FILE, connect_rest_files
from stack.secrets import CONNECT_REST_USERS
from tests.support.compose import (
    KAFKA_NOT_PROPERTIES,
    SERVICES,
    demanded,
    env,
    interpolated,
    jaas_secrets,
    jaas_users,
    kafka_image_properties,
)

BROKERS = ("kafka", "kafka-2", "kafka-3")
CLUSTER = envfile.assignments((topology.ROOT / "cluster.env").read_text())
# what each job logs in to Kafka as, named after the declaration
LOGINS = (
    {broker: {ADMIN} for broker in BROKERS}
    | {"kafka-setup": {ADMIN}, "kafka-ui": {operator().name}, "pipeline-monitor": {operator().name}}
    | {worker: {connect().name} for worker in ("connect", "connect-2")}
    | {f"{side}-app": {app(side).name} for side in SIDES}
    | {f"sink-{side}-to-{other(side)}": {sink(side).name} for side in SIDES}
)
# Kafka UI is not part of the native stack: its Connect REST login is compose's own
COMPOSE_ONLY_REST_USERS = {"kafka-ui"}
REST_CLIENTS = {"register-connectors": "launcher", "connect-watchdog": "watchdog"}


def kafka_logins(service: str) -> set[str]:
    """Whom a service logs in to Kafka as: its KAFKA_USERNAME, its JAAS entries, its SCRAM users."""
    spec = SERVICES[service]
    text = yaml.safe_dump({key: spec.get(key) for key in ("environment", "command")})
    users = jaas_users(env(service).values()) | set(re.findall(r"\[name=([\w-]+),", text))
    return users | ({env(service)["KAFKA_USERNAME"]} if "KAFKA_USERNAME" in env(service) else set())


def connector_logins() -> dict[str, str]:
    """Each connector's principal and the Connect variable its password is read from."""
    logins = {}
    for path in (topology.ROOT / "connectors").glob("*-source.json"):
        jaas = json.loads(path.read_text())["config"]["producer.override.sasl.jaas.config"]
        for user, written in jaas_secrets(jaas):
            logins[user] = re.fullmatch(r"\$\{env:(\w+)\}", written)[1]
    return logins


def password_variables(service: str) -> set[str]:
    """The Kafka password variables a service's definition reads."""
    return set(re.findall(r"\$\{(KAFKA_PASSWORD_\w+):\?", yaml.safe_dump(SERVICES[service])))


def mounts(service: str) -> dict[str, tuple[str, bool]]:
    """A service's volume mounts: container path -> (volume, read-only)."""
    found = {}
    for mount in SERVICES[service].get("volumes", []):
        source, target, *mode = mount.split(":")
        found[target] = (source, mode == ["ro"])
    return found


def assert_read_only_from(service: str, path: str, volume: str) -> None:
    """The file is in a read-only mount of the volume."""
    mounted = mounts(service).get(str(Path(path).parent))
    assert mounted == (volume, True), (service, path, mounts(service))


# --- who logs in as whom, with which password ----------------------------------------------------


def test_every_kafka_login_is_a_declared_principal():
    logins = {name: kafka_logins(name) for name in SERVICES}
    assert {name: users for name, users in logins.items() if users} == LOGINS
    assert set().union(*LOGINS.values()) <= set(USERS)
    assert set(connector_logins()) <= set(USERS)


@pytest.mark.parametrize("service", sorted(SERVICES))
def test_each_service_holds_only_the_passwords_of_its_logins(service):
    """kafka-setup creates every principal; Connect hands each connector its own password."""
    if service == "kafka-setup":
        users = set(USERS)
    else:
        users = kafka_logins(service)
        if service.startswith("connect") and connect().name in users:
            users |= set(connector_logins())
    assert password_variables(service) == {env_name(user) for user in users}


def test_kafka_setup_logs_in_as_admin_and_creates_every_principal_from_its_variable():
    setup = env("kafka-setup")
    assert setup["KAFKA_USERNAME"] == ADMIN
    assert demanded(setup["KAFKA_PASSWORD"]) == env_name(ADMIN)
    for principal in PRINCIPALS:
        assert demanded(setup[env_name(principal.name)]) == env_name(principal.name)
    register = env("register-connectors")
    for name in ("TOPIC_PARTITIONS", "TOPIC_REPLICATION_FACTOR"):
        assert setup[name] == register[name]


@pytest.mark.parametrize("service", sorted(s for s in SERVICES if "KAFKA_USERNAME" in env(s)))
def test_each_client_logs_in_with_its_principals_password(service):
    environment = env(service)
    assert demanded(environment["KAFKA_PASSWORD"]) == env_name(environment["KAFKA_USERNAME"])


def test_connect_gives_each_connector_its_principals_password():
    for user, variable in connector_logins().items():
        assert demanded(env("connect")[variable]) == env_name(user)


@pytest.mark.parametrize("service", sorted(set(LOGINS) - {*BROKERS, "kafka-setup"}))
def test_every_kafka_client_waits_for_kafka_setup(service):
    depends = SERVICES[service]["depends_on"]["kafka-setup"]
    assert depends["condition"] == "service_completed_successfully"


def test_make_env_generates_every_kafka_and_connect_rest_password():
    example = envfile.assignments(envfile.EXAMPLE.read_text())
    for name in {env_name(user) for user in USERS} | set(rest_users().values()):
        assert example.get(name) == "", name


# --- no secret in the file -----------------------------------------------------------------------

# where a secret stands: JAAS options, SCRAM arguments, URLs, users files, *PASSWORD*/*SECRET*
SECRET_SPOTS = (
    re.compile(r'\b(?:password|user_[\w-]+)="([^"]*)"'),
    re.compile(r'\bpassword=([^"\],\s][^\],\s]*)'),
    re.compile(r"://[\w-]+:(\$\{[^}]*\}|[^@\s/]+)@"),
    re.compile(r"^\s*[\w-]+: (\$\{[^}]*\}|\S+)\s*$", re.M),
)
REFERENCE = re.compile(r"\$\{\w+:\?[^}]*\}|\$\$\{?\w+\}?")


def strings(node):
    """Every string in a parsed YAML node."""
    if isinstance(node, dict):
        for key, value in node.items():
            yield from strings(key)
            yield from strings(value)
    elif isinstance(node, list):
        for item in node:
            yield from strings(item)
    elif isinstance(node, str):
        yield node


def test_no_secret_is_written_into_the_compose_file():
    """Every secret is a variable compose demands, or one a container's shell reads."""
    seen = 0
    for name, service in SERVICES.items():
        for key, value in env(name).items():
            if re.search(r"PASSWORD|SECRET", key):
                assert REFERENCE.fullmatch(value), (name, key)
                seen += 1
        for text in strings(service):
            for spot in SECRET_SPOTS:
                for written in spot.findall(text):
                    assert REFERENCE.fullmatch(written), (name, written)
                    seen += 1
    assert seen > 40


# --- TLS -----------------------------------------------------------------------------------------


@pytest.mark.parametrize("service", sorted(s for s in SERVICES if "KAFKA_USERNAME" in env(s)))
def test_python_clients_check_the_brokers_against_the_ca(service):
    assert_read_only_from(service, env(service)["KAFKA_CA_FILE"], "kafka-ca")


@pytest.mark.parametrize("service", ["connect", "kafka-ui", *BROKERS])
def test_java_clients_and_brokers_read_their_stores_from_the_certificate_volumes(service):
    stores = {k: v for k, v in env(service).items() if re.search(r"SSL_\w*STORE_LOCATION$", k)}
    assert stores
    for path in stores.values():
        assert_read_only_from(service, path, "kafka-tls" if service in BROKERS else "kafka-ca")


def certs_command() -> str:
    """The shell command of the certificate job."""
    return SERVICES["kafka-certs"]["command"][-1]


def test_the_certificate_names_every_address_of_every_broker():
    hosts = set(re.search(r"--hosts (\S+)", certs_command())[1].split(","))
    addresses = set()
    for broker in BROKERS:
        advertised = env(broker, CLUSTER)["KAFKA_ADVERTISED_LISTENERS"].split(",")
        addresses |= {item.split("://")[1].rsplit(":", 1)[0] for item in advertised}
    voters = CLUSTER["KAFKA_QUORUM_VOTERS"].split(",")
    addresses |= {voter.split("@")[1].rsplit(":", 1)[0] for voter in voters}
    assert addresses == {*BROKERS, "localhost"} and addresses <= hosts


def run_script(script: str, tmp_path: Path, environment: dict, stubs: dict, places=None):
    """Run a container's shell script here: each image program a stub (a path in the script, or
    a command name found on PATH), the project's Python the venv's, and each place in `places`
    (by default /tmp/) moved into tmp_path."""
    folder = tmp_path / "stubs"
    folder.mkdir(exist_ok=True)
    places = {"/tmp/": f"{tmp_path}/"} if places is None else places
    for program, body in stubs.items():
        stub = folder / Path(program).name
        stub.write_text("#!/bin/bash\n" + body)
        stub.chmod(0o755)
        if program.startswith("/"):
            places[program] = str(stub)
    if places:
        script = re.sub("|".join(map(re.escape, places)), lambda m: places[m[0]], script)
    path = f"{folder}:{topology.VENV_BIN}:{os.environ['PATH']}"
    env_vars = {"PATH": path, "STUBS": str(tmp_path)}
    return subprocess.run(
        [shutil.which("bash") or pytest.skip("needs bash"), "-c", script],
        env=env_vars | environment,
        capture_output=True,
        text=True,
        cwd=topology.ROOT,
        timeout=60,
    )


def test_the_certificate_job_writes_the_ca_for_clients_and_the_key_for_brokers(tmp_path):
    (tmp_path / "ca").mkdir()
    # the job's two volumes, /tls and /ca, in tmp_path
    script = re.sub(r"(?<![\w/])/(tls|ca)\b", f"{tmp_path}/\\1", certs_command())
    result = run_script(script, tmp_path, {}, {"chown": 'echo "$@" >"$STUBS/chown"\n'}, {})
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "ca" / "ca.pem").read_text() == (tmp_path / "tls" / "ca.pem").read_text()
    assert (tmp_path / "chown").read_text().split() == ["1000", f"{tmp_path}/tls/broker.pem"]
    cert = x509.load_pem_x509_certificate((tmp_path / "tls" / "broker.pem").read_bytes())
    names = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert set(BROKERS) <= set(names.get_values_for_type(x509.DNSName))
    assert "ca-key.pem" not in {p.name for p in (tmp_path / "ca").iterdir()}


# --- the brokers' start -------------------------------------------------------------------------

STORAGE_STUB = """printf '%s\\n' "$@" >"$STUBS/format-args"
while [ $# -gt 0 ]; do [ "$1" = -c ] && cp "$2" "$STUBS/formatted-with.properties"; shift; done
touch "$KAFKA_LOG_DIRS/meta.properties"
"""
KAFKA_STUBS = {
    "/opt/kafka/bin/kafka-storage.sh": STORAGE_STUB,
    "/etc/kafka/docker/run": 'touch "$STUBS/started"\n',
}


def start_kafka(tmp_path: Path) -> tuple[subprocess.CompletedProcess, dict]:
    """Run the brokers' command once, as compose hands it over, the data in tmp_path/data."""
    environment = {k: interpolated(v) for k, v in env("kafka").items()}
    # the image's own variables, which are no server properties
    environment |= dict.fromkeys(KAFKA_NOT_PROPERTIES - set(environment), "x")
    environment["KAFKA_LOG_DIRS"] = str(tmp_path / "data")
    (tmp_path / "data").mkdir(exist_ok=True)
    script = interpolated(SERVICES["kafka"]["command"][-1])
    return run_script(script, tmp_path, environment, KAFKA_STUBS), environment


def admin_client_file() -> str:
    """The login file the brokers' healthcheck passes to kafka-broker-api-versions.sh."""
    test = SERVICES["kafka"]["healthcheck"]["test"]
    return test[test.index("--command-config") + 1]


def test_the_first_start_formats_with_the_admin_login_and_the_images_properties(tmp_path):
    result, environment = start_kafka(tmp_path)
    assert result.returncode == 0, result.stderr
    args = (tmp_path / "format-args").read_text().splitlines()
    assert args[0] == "format" and f"--cluster-id={environment['CLUSTER_ID']}" in args
    password = f"pw-{env_name(ADMIN)}"
    assert f"--add-scram=SCRAM-SHA-512=[name={ADMIN},password={password}]" in args
    rendered = (tmp_path / "formatted-with.properties").read_text().splitlines()
    assert dict(line.split("=", 1) for line in rendered) == kafka_image_properties(environment)
    # the properties it formatted with hold the admin's password: not left behind
    assert not (tmp_path / "format.properties").exists()
    assert (tmp_path / "data" / ".scram-users").exists() and (tmp_path / "started").exists()


def test_the_healthchecks_login_is_the_admins_over_tls(tmp_path):
    result, environment = start_kafka(tmp_path)
    assert result.returncode == 0, result.stderr
    login = Path(admin_client_file().replace("/tmp/", f"{tmp_path}/"))
    assert stat.S_IMODE(login.stat().st_mode) == 0o600
    settings = dict(line.split("=", 1) for line in login.read_text().splitlines())
    assert settings["security.protocol"] == "SASL_SSL"
    assert settings["ssl.truststore.location"] == environment["KAFKA_SSL_TRUSTSTORE_LOCATION"]
    assert jaas_secrets(settings["sasl.jaas.config"]) == [(ADMIN, f"pw-{env_name(ADMIN)}")]
    for broker in BROKERS:
        assert admin_client_file() in SERVICES[broker]["healthcheck"]["test"], broker


def test_a_formatted_node_starts_without_formatting_again(tmp_path):
    assert start_kafka(tmp_path)[0].returncode == 0
    (tmp_path / "format-args").unlink()
    (tmp_path / "started").unlink()
    assert start_kafka(tmp_path)[0].returncode == 0
    assert not (tmp_path / "format-args").exists() and (tmp_path / "started").exists()


def test_data_formatted_before_kafka_required_logins_is_refused(tmp_path):
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "meta.properties").write_text("cluster.id=x\n")
    result, _ = start_kafka(tmp_path)
    assert result.returncode == 1 and "SASL/SCRAM" in result.stderr
    assert not (tmp_path / "started").exists()


# --- Connect's REST API --------------------------------------------------------------------------


def rest_users() -> dict[str, str]:
    """Connect's REST users file in compose: user -> the variable of its password."""
    lines = env("connect")["REST_USERS"].splitlines()
    return {user: demanded(value) for user, value in (line.split(": ") for line in lines)}


def test_connect_takes_the_native_rest_logins_and_kafka_uis():
    users = rest_users()
    assert set(users) == set(CONNECT_REST_USERS) | COMPOSE_ONLY_REST_USERS
    for user, variable in users.items():
        assert variable == "CONNECT_REST_PASSWORD_" + user.upper().replace("-", "_")


@pytest.mark.parametrize(("service", "user"), sorted(REST_CLIENTS.items()))
def test_each_rest_client_logs_in_as_its_own_user(service, user):
    environment = env(service)
    assert environment["CONNECT_USER"] == user
    assert demanded(environment["CONNECT_PASSWORD"]) == rest_users()[user]


def test_kafka_ui_logs_in_to_connect_with_its_own_user():
    ui = env("kafka-ui")
    user = ui["KAFKA_CLUSTERS_0_KAFKACONNECT_0_USERNAME"]
    assert user in COMPOSE_ONLY_REST_USERS
    assert demanded(ui["KAFKA_CLUSTERS_0_KAFKACONNECT_0_PASSWORD"]) == rest_users()[user]
    assert ui["KAFKA_CLUSTERS_0_READONLY"] == "true"


def start_connect(tmp_path: Path) -> subprocess.CompletedProcess:
    """Run Connect's entrypoint as compose hands it over, the image's own one a stub."""
    environment = {k: interpolated(v) for k, v in env("connect").items()}
    environment["KAFKA_OPTS"] = environment["KAFKA_OPTS"].replace("/tmp/", f"{tmp_path}/")
    stubs = {"/docker-entrypoint.sh": 'env >"$STUBS/worker-env"\n'}
    return run_script(
        interpolated(SERVICES["connect"]["entrypoint"][-1]), tmp_path, environment, stubs
    )


def test_connect_writes_the_native_login_files_owner_only_before_starting(tmp_path):
    result = start_connect(tmp_path)
    assert result.returncode == 0, result.stderr
    worker = dict(
        line.split("=", 1)
        for line in (tmp_path / "worker-env").read_text().splitlines()
        if "=" in line
    )
    assert "REST_USERS" not in worker and "REST_JAAS" not in worker
    jaas_path = Path(re.search(r"login\.config=(\S+)", worker["KAFKA_OPTS"])[1])
    jaas = jaas_path.read_text()
    users_path = Path(re.search(r'file="([^"]+)"', jaas)[1].replace("/tmp/", f"{tmp_path}/"))
    native = connect_rest_files()
    native_jaas, native_users = native[CONNECT_JAAS.name], native[CONNECT_REST_USERS_FILE.name]
    native_file = re.search(r'file="([^"]+)"', native_jaas)[1]
    assert jaas.replace(re.search(r'file="([^"]+)"', jaas)[1], native_file) == native_jaas
    users = dict(line.split(": ") for line in users_path.read_text().splitlines())
    assert set(dict(line.split(": ") for line in native_users.splitlines())) <= set(users)
    assert all(password.startswith("pw-") for password in users.values())
    for path in (jaas_path, users_path):
        assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_connects_healthcheck_logs_in_from_the_users_file(tmp_path):
    assert start_connect(tmp_path).returncode == 0
    check = SERVICES["connect"]["healthcheck"]["test"]
    assert check[0] == "CMD-SHELL"
    stubs = {"curl": 'printf "%s\\n" "$@" >"$STUBS/curl-args"\n'}
    result = run_script(interpolated(check[1]), tmp_path, {}, stubs)
    assert result.returncode == 0, result.stderr
    args = (tmp_path / "curl-args").read_text().splitlines()
    assert args[args.index("-u") + 1] == f"launcher:pw-{rest_users()['launcher']}"
