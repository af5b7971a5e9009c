"""The front door cannot lie: README.md's shell blocks run, in order, against the running stack.

A ```sh block is a command to run; anything else shown in a fence is not (```text, ```json).
"""

import os
import re
import subprocess
from pathlib import Path

import pytest

from stack.secrets import client_environment

ROOT = Path(__file__).resolve().parents[2]
README = ROOT / "README.md"
RUNNABLE = "sh"
NOT_COMMANDS = {"text", "json", "python"}
FENCE = re.compile(r"^```(\w*)\n(.*?)^```$", re.MULTILINE | re.DOTALL)
# a make target at the start of a command: in a block, after a pipe, or in inline code
MAKE_TARGET = re.compile(r"(?:^|\| |`)make ([a-z][a-z-]*)", re.MULTILINE)
# targets the suite cannot run for real, and why: `make -n` shows they exist and what they run
DRY_RUN = {
    "test": "it starts the very suite this test runs in, and stops the stack after",
}
# what a surrounding `make test` hands down: README's commands run as typed into a fresh shell
MAKE_VARIABLES = {"MAKEFLAGS", "MAKELEVEL", "MFLAGS", "MAKEOVERRIDES"}


def blocks(markdown: str) -> list[tuple[str, str]]:
    """Return each fenced block of a Markdown text as (language, body)."""
    return [(match.group(1), match.group(2)) for match in FENCE.finditer(markdown)]


def dry_run(script: str) -> str:
    """Turn each `make <target>` the suite cannot run into `make -n <target>`."""
    targets = "|".join(map(re.escape, DRY_RUN))
    return re.sub(rf"^make (?=(?:{targets})(?:\s|$))", "make -n ", script, flags=re.MULTILINE)


def fresh_environment() -> dict[str, str]:
    """Our environment without what the suite itself added to it (conftest) or make handed down."""
    added = {"APP_ENV", *client_environment()}
    return {k: v for k, v in os.environ.items() if k not in added | MAKE_VARIABLES}


def test_every_fence_is_a_command_or_says_it_is_not():
    """Runnable blocks are ```sh; every other fence names a language that is not a shell."""
    languages = {language for language, _ in blocks(README.read_text())}
    assert RUNNABLE in languages
    assert languages <= NOT_COMMANDS | {RUNNABLE}, f"unlabelled or shell-like fences: {languages}"


def test_every_make_target_named_exists():
    """Each `make <target>` README names, in a block or in the text, is one the Makefile has."""
    targets = sorted(set(MAKE_TARGET.findall(README.read_text())))
    assert "up" in targets and "users" in targets
    for target in targets:
        result = subprocess.run(
            ["make", "-n", target],
            cwd=ROOT,
            capture_output=True,
            text=True,
            env=fresh_environment(),
        )
        assert result.returncode == 0, f"make {target}: {result.stderr}"


@pytest.mark.timeout(600)
def test_readme_runs_as_written(stack):
    """Every ```sh block of README.md, in order, in one bash with `set -euo pipefail`."""
    if stack.app_url("store") != "http://127.0.0.1:5001":
        pytest.skip("README's commands name the default ports; this stack has moved them")
    commands = [
        dry_run(body) for language, body in blocks(README.read_text()) if language == RUNNABLE
    ]
    script = "\n".join(["set -euo pipefail", *commands])
    result = subprocess.run(
        ["bash", "-c", script],
        cwd=ROOT,
        env=fresh_environment(),
        capture_output=True,
        text=True,
        timeout=540,
    )
    assert result.returncode == 0, (
        f"README's commands failed (exit {result.returncode}):\n"
        f"{result.stdout[-4000:]}\n{result.stderr[-4000:]}"
    )
