"""Fixtures of the stack tests."""

import shutil
import subprocess
from pathlib import Path

import pytest

from tests.support.compose import CACHE, SOURCE, source_digest


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
