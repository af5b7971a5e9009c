"""docker-compose.yml through the Compose Spec's reference loader, the one `docker compose` uses.

No Docker engine runs here, so a small pinned Go program (tests/stack/composeload) loads the file
with github.com/compose-spec/compose-go/v2: schema, interpolation, merges, depends_on. It is built
once into a cache folder, keyed by its sources.
"""

import hashlib
import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from stack import envfile, topology

SOURCE = Path(__file__).parent / "composeload"
CACHE = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "cdc-order-sync"
COMPOSE = topology.ROOT / "docker-compose.yml"
# names a caller's shell may export that would hide a missing secret from the loader
CLEAN_ENV = {name: os.environ[name] for name in ("PATH", "HOME") if name in os.environ}


def source_digest() -> str:
    """A digest of the loader's sources: a change to any of them means a new build."""
    digest = hashlib.sha256()
    for name in ("go.mod", "go.sum", "main.go"):
        digest.update((SOURCE / name).read_bytes())
    return digest.hexdigest()[:16]


@pytest.fixture(scope="module")
def composeload() -> Path:
    """The loader binary, built with the module proxy's pinned versions (go.sum) when missing."""
    go = shutil.which("go")
    if go is None:
        pytest.skip("Go is not installed: the compose loader test needs it (CI has it)")
    binary = CACHE / f"composeload-{source_digest()}"
    if not binary.exists():
        CACHE.mkdir(parents=True, exist_ok=True)
        partial = binary.with_suffix(".partial")
        subprocess.run(
            [go, "build", "-mod=readonly", "-o", str(partial), "."],
            cwd=SOURCE,
            check=True,
            timeout=1200,
        )
        partial.rename(binary)
    return binary


def load(binary: Path, env_file: Path) -> subprocess.CompletedProcess:
    """Run the loader on docker-compose.yml with one env file and no inherited secrets."""
    return subprocess.run(
        [str(binary), str(COMPOSE), str(env_file)],
        env=CLEAN_ENV,
        capture_output=True,
        text=True,
        timeout=120,
    )


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
        assert set(service.get("depends_on", {})) <= set(services), name
    secrets = envfile.assignments(env_file.read_text())
    store = services["store-app"]["environment"]
    assert store["SECRET_KEY"] == secrets["STORE_SECRET_KEY"]
    assert store["DATABASE_URL"].startswith(
        f"postgresql://sync_app:{secrets['SYNC_APP_PASSWORD']}@"
    )
