"""`python -m stack COMMAND`: run the dev stack as supervised local processes."""

import argparse
import os
import shutil
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor

from confluent_kafka import KafkaException
from confluent_kafka.admin import AdminClient

from connectors import kafka_setup
from ordersync import topology as t
from ordersync.db import rollout
from ordersync.environment import BadSetting, checked, seconds
from ordersync.kafka.access import ADMIN, USERS
from ordersync.sync.mapping import LATEST, SIDES
from stack import (
    configs,
    envfile,
    jars,
    probes,
    provision,
    report,
    secrets,
    shape,
    supervisor,
    tls,
    topics,
)
from stack.components import Component, all_components, brokers, connect_workers
from stack.secrets import ADMIN_PASSWORD_FILE, admin_password, client_environment, db_passwords
from stack.topology import CONF, DATA, LOGS, ROOT, RUN, STATE, STATE_CA

STARTUP_TIMEOUT = checked("STACK_STARTUP_TIMEOUT", seconds(0.1, 3600), 180)
DEAD_STATES = {"FATAL", "EXITED", "BACKOFF"}
# started with setup steps between them; everything else follows the connectors
DATABASES = ("store-db", "warehouse-db")
INFRASTRUCTURE = (*DATABASES, *brokers(), *connect_workers())


class StartupError(RuntimeError):
    """A component did not become ready."""


def say(message: str) -> None:
    """Print a progress line at once."""
    print(f"[stack] {message}", flush=True)


def log_tail(name: str, lines: int = 40) -> str:
    """Return the last lines of a component's log file."""
    path = LOGS / f"{name}.log"
    if not path.exists():
        return f"(no log at {path})"
    return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])


def wait_until(check, what: str, component: str | None = None, timeout: float = STARTUP_TIMEOUT):
    """Poll a condition until it holds; fail early if the component's process died."""

    def died() -> bool:
        return bool(component) and supervisor.states()[component]["statename"] in DEAD_STATES

    try:
        probes.wait_until(check, timeout, what, give_up=died)
    except probes.NotReady:
        tail = log_tail(component) if component else ""
        raise StartupError(f"{what} not ready after {timeout:.0f}s\n{tail}") from None


def is_running(name: str) -> bool:
    """Tell whether supervisord considers the program started (past startsecs)."""
    return supervisor.states()[name]["statename"] == "RUNNING"


def start_component(component: Component) -> bool:
    """Start one component unless it is already ready; return whether it was started."""
    state = supervisor.states()[component.name]["statename"]
    if state == "RUNNING" and component.ready():
        return False
    say(f"starting {component.name} ...")
    started = time.monotonic()
    supervisor.start(component.name)
    wait_until(
        lambda: is_running(component.name) and component.ready(), component.name, component.name
    )
    say(f"{component.name} ready in {time.monotonic() - started:.1f}s")
    return True


def start_together(components: list[Component]) -> bool:
    """Start several components at once, then wait for each; return whether any was started."""
    waiting = []
    for component in components:
        state = supervisor.states()[component.name]["statename"]
        if state == "RUNNING" and component.ready():
            continue
        say(f"starting {component.name} ...")
        supervisor.start(component.name)
        waiting.append(component)
    started = time.monotonic()
    for c in waiting:
        wait_until(lambda c=c: is_running(c.name) and c.ready(), c.name, c.name)
        say(f"{c.name} ready in {time.monotonic() - started:.1f}s")
    return bool(waiting)


def provision_all(components: list[Component]) -> tuple[bool, set[str]]:
    """Install the locked jars, write configs and init data dirs; start nothing.

    Returns whether anything changed and which config files did.
    """
    changed, stale = provision_databases(components)
    if jars.install():
        say(f"installed the Kafka, Connect and Debezium jars of {jars.LOCK_FILE.name}")
        changed = True
    if t.CLUSTER and tls.ensure():
        say(f"made the brokers' TLS certificate and its CA ({STATE_CA})")
        changed = True
    if provision.format_kafka():
        say("formatted the KRaft log director" + ("ies" if t.CLUSTER else "y"))
        changed = True
    return changed, stale


def provision_databases(components: list[Component]) -> tuple[bool, set[str]]:
    """Write the configs and init both data dirs: all that the databases alone need."""
    for folder in (DATA, LOGS, CONF, RUN):
        folder.mkdir(parents=True, exist_ok=True)
    stale = configs.write_all(components)
    changed = False
    for side in t.DATABASES:
        if provision.init_postgres(side):
            say(f"initialised {side}-db data directory")
            changed = True
    return changed, stale


def start_supervisor() -> bool:
    """Start supervisord unless it runs, and make it read the current configs."""
    started = not supervisor.running()
    if started:
        supervisor.start_daemon()
        wait_until(supervisor.running, "supervisord")
    supervisor.reload_config()
    return started


def prepare(components: list[Component]) -> bool:
    """Provision, start supervisord and restart a broker or worker whose properties changed."""
    changed, stale = provision_all(components)
    changed |= start_supervisor()
    # a running broker or worker only reads its properties (and its REST users) at start
    rest_users = {configs.CONNECT_JAAS.name, configs.CONNECT_REST_USERS_FILE.name} & stale
    for name in (*brokers(), *connect_workers()):
        read = {f"{name}.properties"} | (rest_users if name in connect_workers() else set())
        if read & stale and supervisor.states()[name]["statename"] == "RUNNING":
            say(f"{', '.join(sorted(read & stale))} changed: restarting {name}")
            supervisor.stop(name)
            changed = True
    return changed


def setup_databases() -> bool:
    """Create both databases, bring their schemas to head, and make sure `admin` exists."""
    password, new = admin_password()
    db_passwords()  # generated here, once: the two threads below only read them
    # the two servers are independent: set them up side by side
    with ThreadPoolExecutor(len(t.DATABASES)) as pool:
        changed = any(pool.map(lambda side: setup_database(side, password), t.DATABASES))
    if new:
        announce_admin_password(password)
    return changed


def setup_database(side: str, password: str) -> bool:
    """Create one side's databases and roles, migrate, grant, add `admin`; return if changed."""
    changed = provision.create_databases(side)
    provision.migrate(side)
    provision.grant(side)
    if provision.create_admin(side, password):
        say(f"created user admin on {side}")
        changed = True
    return changed


def announce_admin_password(password: str) -> None:
    """Show a new admin password on a terminal only; elsewhere (CI logs) say where it is kept."""
    if sys.stdout.isatty():
        say(f"admin password (also in {ADMIN_PASSWORD_FILE}): {password}")
    else:
        say(f"admin password generated into {ADMIN_PASSWORD_FILE} (readable by its owner only)")


def setup_kafka() -> bool:
    """Kafka's principals, ACLs and topics as declared (before anyone else logs in)."""
    notes = probes.wait_until(
        lambda: attempt(provision.setup_kafka), STARTUP_TIMEOUT, "Kafka to take the admin's login"
    )
    for note in notes[1]:
        say(f"kafka: {note}")
    return bool(notes[1])


def attempt(step):
    """Run a step that may fail while a broker is still joining: (True, result), or None."""
    try:
        return True, step()
    except KafkaException as error:
        say(f"kafka not ready yet: {error}")
        return None


def setup_connectors() -> bool:
    """Register the Debezium source connectors and wait until they and their tasks run."""
    changed = False
    for spec in provision.connector_configs():
        if provision.register_connector(spec):
            say(f"registered connector {spec['name']}")
            changed = True
    for spec in provision.connector_configs():
        wait_until(
            lambda name=spec["name"]: connector_running(name), spec["name"], connect_workers()[0]
        )
    return changed


def connector_running(name: str) -> bool:
    """Tell whether a connector and all its tasks are RUNNING; raise if one FAILED."""
    state, tasks = provision.connector_state(name)
    if "FAILED" in [state, *tasks]:
        url = provision.connect_url()
        raise StartupError(f"connector {name} failed: see {url}/connectors/{name}/status")
    return state == "RUNNING" and tasks and all(task == "RUNNING" for task in tasks)


def check_shape() -> None:
    """Refuse to switch between single node and cluster over a running stack.

    Switching over a stopped one works: the other shape's Kafka data holds older stream
    positions than the slots, and the connectors re-snapshot (snapshot.mode=when_needed).
    """
    known = shape.remembered()  # nothing before the first `up` that kept it
    running, wanted = shape.effective(known), shape.effective(os.environ)
    if not known or running["brokers"] == wanted["brokers"]:
        return
    if supervisor.running():
        started = "make up-cluster" if running["brokers"] == "3" else "make up"
        raise StartupError(
            f"the stack running here has another shape ({started}: {running}); "
            "`make down` first, then start the one you want"
        )


def up() -> int:
    """Bring every component up in order; say so when nothing had to change."""
    check_shape()
    shape.remember()
    components = all_components()
    started = time.monotonic()
    changed = prepare(components)
    by_name = {c.name: c for c in components}
    changed |= start_together([by_name[name] for name in DATABASES])
    changed |= setup_databases()
    # a KRaft quorum of three elects a leader only once two voters run: start them together
    changed |= start_together([by_name[name] for name in brokers()])
    changed |= setup_kafka()
    changed |= start_together([by_name[name] for name in connect_workers()])
    changed |= setup_connectors()
    for component in components:
        if component.name not in INFRASTRUCTURE:
            changed |= start_component(component)
    print_table(components)
    if changed:
        say(f"stack up in {time.monotonic() - started:.1f}s")
    else:
        say("everything was already running; nothing changed")
    return 0


def databases_up() -> int:
    """Start only the two databases, created, migrated and granted: what `test-fast` needs."""
    components = all_components()
    provision_databases(components)
    start_supervisor()
    by_name = {c.name: c for c in components}
    for name in DATABASES:
        start_component(by_name[name])
    setup_databases()
    return 0


def down() -> int:
    """Stop every component in reverse order, then supervisord."""
    if not supervisor.running():
        say("stack is not running")
        return 0
    for component in reversed(all_components()):
        if supervisor.states().get(component.name, {}).get("statename") == "RUNNING":
            say(f"stopping {component.name}")
        supervisor.stop(component.name)
    supervisor.shutdown()
    wait_until(lambda: not supervisor.running(), "supervisord shutdown", timeout=60)
    say("stack stopped")
    return 0


def print_table(components: list[Component]) -> bool:
    """Print what runs where; return whether everything is running and ready."""
    states = supervisor.states() if supervisor.running() else {}
    healthy = True
    print(f"{'component':<26}{'state':<10}{'pid':>8}  {'ready':<6}{'address'}")
    for component in components:
        info = states.get(component.name, {})
        state = info.get("statename", "DOWN")
        ready = state == "RUNNING" and component.ready()
        healthy &= ready
        pid = info.get("pid") or "-"
        print(
            f"{component.name:<26}{state:<10}{pid:>8}  {'yes' if ready else 'no':<6}{component.url}"
        )
    print(f"logs: {LOGS}   data: {DATA}")
    return healthy


def status() -> int:
    """Print processes, connectors, slots, lag, dead letters, freshness and drift on one screen.

    Exits non-zero when anything is unhealthy.
    """
    healthy = print_table(all_components())
    if not supervisor.running():
        return 1
    for spec in provision.connector_configs():
        try:
            state, tasks = provision.connector_state(spec["name"])
        except Exception as exc:  # connect down: report, don't crash the status screen
            state, tasks = f"unknown ({type(exc).__name__})", []
        ok = state == "RUNNING" and bool(tasks) and all(task == "RUNNING" for task in tasks)
        healthy &= ok
        mark = "ok" if ok else "BAD"
        print(f"{mark:<5}connector {spec['name']:<34}{state:<10}tasks: {', '.join(tasks) or '-'}")
    warnings = False
    for check in report.all_checks(supervisor.states()):
        healthy &= check.healthy
        warnings |= check.warning
        print(f"{check.mark:<5}{check.name:<44}{check.value}")
    print(("healthy, with warnings" if warnings else "healthy") if healthy else "UNHEALTHY")
    return 0 if healthy else 1


def clean() -> int:
    """Stop the stack and wipe its data and logs (downloaded jars are kept)."""
    down()
    for folder in (DATA, LOGS, CONF, RUN):
        shutil.rmtree(folder, ignore_errors=True)
    say(f"wiped {DATA} and {LOGS}")
    return 0


def clean_kafka() -> int:
    """Stop the stack and wipe Kafka's data of either shape: the next `up` formats it afresh."""
    down()
    for folder in sorted(DATA.glob("kafka*")):
        shutil.rmtree(folder, ignore_errors=True)
        say(f"wiped {folder}")
    return 0


# the cluster pass of `stack test`: its own data and ports, so it never meets the main stack
CLUSTER_PORT_SHIFT = 100
CLUSTER_TEST = {"STACK_BROKERS": "3", "SINK_REPLICAS": "2", "STACK_JVM_HEAP": "320m"}


def test(pytest_args: list[str]) -> int:
    """Run the suite against the stack, starting it first if needed and stopping it after.

    Without arguments, in two passes: everything but the `cluster` tests on this stack, then
    the `cluster` tests on a three-broker stack with sink replicas, started for them alone.
    """
    pytest = [sys.executable, "-m", "pytest"]
    if t.CLUSTER or "-m" in pytest_args:
        return run_with_stack([*pytest, *pytest_args])
    if pytest_args:
        say("the `cluster` tests are left out on a single node: `make test-cluster` runs them")
        return run_with_stack([*pytest, "-m", "not cluster", *pytest_args])
    main = run_with_stack([*pytest, "-m", "not cluster"])
    cluster = cluster_pass()
    say(f"main pass exited {main}, cluster pass exited {cluster}")
    return main or cluster


def cluster_pass() -> int:
    """Run the `cluster` tests on a cluster stack of their own (data under the state folder)."""
    env = os.environ | CLUSTER_TEST
    env |= {
        "STACK_DIR": str(STATE / "cluster"),
        "STACK_PORT_OFFSET": str(t.PORT_OFFSET + CLUSTER_PORT_SHIFT),
    }
    (STATE / "cluster").mkdir(parents=True, exist_ok=True)
    say("cluster pass: 3 brokers, 2 Connect workers, 2 sink replicas per direction")
    command = [sys.executable, "-m", "stack", "test", "-m", "cluster"]
    return subprocess.call(command, cwd=ROOT, env=env)


def test_fast(pytest_args: list[str]) -> int:
    """Run every test that needs only the two databases, starting them alone if they are down."""
    databases = [c for c in all_components() if c.name in DATABASES]
    was_running = supervisor.running() and all(c.ready() for c in databases)
    if not was_running:
        databases_up()
    try:
        command = [sys.executable, "-m", "pytest", "-m", "not stack", *pytest_args]
        os.environ.setdefault("TEST_EXAMPLES_SCALE", "0.25")  # `make test` runs them all
        return run_against_stack(command)
    finally:
        if not was_running:
            down()


def run_with_stack(command: list[str]) -> int:
    """Run a command against the stack, leaving the stack as it found it."""
    was_running = supervisor.running() and status_quiet()
    if not was_running:
        up()
    try:
        return run_against_stack(command)
    finally:
        if not was_running:
            down()


def run_against_stack(command: list[str]) -> int:
    """Run a command with the stack's addresses and credentials in its environment."""
    if command[:1] == ["--"]:
        command = command[1:]
    return subprocess.call(command, cwd=ROOT, env=os.environ | client_environment())


def status_quiet() -> bool:
    """Tell whether every component runs and is ready, without printing."""
    states = supervisor.states()
    return all(
        states.get(c.name, {}).get("statename") == "RUNNING" and c.ready() for c in all_components()
    )


def provision_only() -> int:
    """Download, configure and initialise everything `up` needs, without starting it."""
    changed, _ = provision_all(all_components())
    say("provisioned" if changed else "already provisioned; nothing changed")
    return 0


def lock() -> int:
    """Resolve the jar sets afresh and rewrite jars.lock.json."""
    content = jars.lock()
    count = sum(len(entries) for entries in content["jars"].values())
    say(f"locked {count} jars in {jars.LOCK_FILE.name}")
    return 0


def restart(names: list[str]) -> int:
    """Restart the named components (all apps and sinks when none is named) and wait for them."""
    components = {c.name: c for c in all_components()}
    unknown = set(names) - set(components)
    if unknown:
        say(f"unknown component(s): {', '.join(sorted(unknown))}; known: {', '.join(components)}")
        return 2
    for name in names or [n for n in components if n not in INFRASTRUCTURE]:
        supervisor.stop(name)
        start_component(components[name])
    return 0


def rotate_kafka_password(argv: list[str]) -> int:
    """`python -m stack rotate-kafka-password NAME`: a new password for one Kafka principal.

    Kafka takes the new credential first (set by the admin with its current login), then the
    password file changes and `up` restarts whatever logs in as that principal.
    """
    parser = argparse.ArgumentParser(prog="python -m stack rotate-kafka-password")
    parser.add_argument("name", choices=USERS)
    name = parser.parse_args(argv).name
    new = secrets.new_kafka_password()
    kafka_setup.upsert_users(AdminClient(secrets.kafka_client(ADMIN)), {name: new})
    secrets.store_kafka_password(name, new)
    say(f"kafka: {name} has a new password (in {secrets.KAFKA_PASSWORDS_FILE})")
    if name == ADMIN:
        say("the brokers read it at start, all together: run `make down` then `make up` now")
        return 0
    return up()


def migrate(argv: list[str]) -> int:
    """`python -m stack migrate SIDE`: one side's migrations while the stack runs, then catch up.

    The sinks move to the new field set by themselves (they check it with every batch); the
    side's app is restarted onto it; fields that both sides sync only from now on are repaired
    until they agree (values written on one side while the other had no column for them).
    """
    parser = argparse.ArgumentParser(prog="python -m stack migrate", description=migrate.__doc__)
    parser.add_argument("side", choices=SIDES)
    side = parser.parse_args(argv).side
    if not supervisor.running() or not is_running(f"{side}-db"):
        say(f"the {side} database is not running: `make up` first")
        return 1
    before = report.schema_versions()
    try:
        print(provision.migrate(side), end="", flush=True)  # Alembic's steps and their findings
    except RuntimeError as error:  # a refused migration changed nothing: say why
        say(f"FAILED: {error}")
        return 1
    provision.grant(side)
    after = report.schema_versions()
    say(f"{side}: schema version {before[side].version} -> {after[side].version}")
    if is_running(f"{side}-app"):
        restart([f"{side}-app"])
    shared = set(after["store"].shared(after["warehouse"]).names)
    new = sorted(shared - set(before["store"].shared(before["warehouse"]).names))
    status = 0
    if new:
        say(f"now synced on both sides: {', '.join(new)}; carrying values written meanwhile")
        catch_up = [sys.executable, "-m", "connectors.reconcile", "--catch-up"]
        status = run_against_stack([*catch_up, "--fields", ",".join(new)])
    say("schema versions: " + rollout.describe(after, LATEST.version)[0])
    return status


def tail(argv: list[str]) -> int:
    """`python -m stack tail TOPIC [--order ID] [--last N] [--no-follow]`."""
    parser = argparse.ArgumentParser(prog="python -m stack tail", description=topics.tail.__doc__)
    parser.add_argument("topic")
    parser.add_argument("--order", help="only this order's events, from the start of the topic")
    parser.add_argument("--last", type=int, default=10, help="how many past messages to show")
    parser.add_argument("--no-follow", dest="follow", action="store_false")
    args = parser.parse_args(argv)
    topics.tail(args.topic, args.last, args.order, args.follow)
    return 0


def main(argv: list[str] | None = None) -> int:
    """Parse the command line and run one command."""
    parser = argparse.ArgumentParser(prog="python -m stack", description=__doc__)
    parser.add_argument(
        "command",
        choices=["up", "down", "status", "clean", "test", "run", "exec", "restart", "topics"]
        + ["test-fast", "test-cluster", "tail", "provision", "lock", "env", "migrate"]
        + ["clean-kafka", "rotate-kafka-password"],
    )
    args, rest = parser.parse_known_args(argv)
    try:
        if args.command == "test":
            return test(rest)
        if args.command == "test-cluster":
            return cluster_pass()
        if args.command == "test-fast":
            return test_fast(rest)
        if args.command == "restart":
            return restart(rest)
        if args.command == "run":
            return run_with_stack(rest)
        if args.command == "exec":
            return run_against_stack(rest)
        if args.command == "topics":
            print("\n".join(topics.lines()))
            return 0
        if args.command == "tail":
            return tail(rest)
        if args.command == "migrate":
            return migrate(rest)
        if args.command == "rotate-kafka-password":
            return rotate_kafka_password(rest)
        commands = {"up": up, "down": down, "status": status, "clean": clean}
        commands["clean-kafka"] = clean_kafka
        commands |= {"provision": provision_only, "lock": lock, "env": envfile.main}
        return commands[args.command]()
    except (StartupError, jars.LockError, BadSetting, provision.KafkaDataTooOld) as error:
        say(f"FAILED: {error}")
        return 1
