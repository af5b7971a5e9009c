"""The native launcher on the running stack: idempotent `up`, truthful `status`."""

import subprocess

from stack.components import all_components
from tests.helpers import run_module


def launcher(*args: str) -> subprocess.CompletedProcess:
    """Run `python -m stack ...` and capture its output."""
    return run_module("stack", *args)


def test_second_up_changes_nothing_and_says_so(stack):
    result = launcher("up")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "nothing changed" in result.stdout
    assert "starting" not in result.stdout


def test_status_lists_every_component_running_and_ready(stack):
    result = launcher("status")
    assert result.returncode == 0, result.stdout
    for component in all_components():
        line = next(
            row for row in result.stdout.splitlines() if row.startswith(component.name + " ")
        )
        assert " RUNNING " in line and " yes " in line, line
    assert "connector store-source" in result.stdout
    assert "connector warehouse-source" in result.stdout
