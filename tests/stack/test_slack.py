"""`python -m stack.slack`: the command it becomes runs with the timer slack it was given."""

import subprocess
import sys
from pathlib import Path

import pytest

from stack.components import CONNECT_TIMER_SLACK_NS, connect

READ_OWN_SLACK = "print(open('/proc/self/timerslack_ns').read().strip())"


def slack(*args: str) -> subprocess.CompletedProcess:
    """Run the wrapper with these arguments."""
    command = [sys.executable, "-m", "stack.slack", *args]
    return subprocess.run(command, capture_output=True, text=True, timeout=30)


@pytest.mark.skipif(not Path("/proc/self/timerslack_ns").exists(), reason="Linux 4.6+ only")
def test_the_command_and_its_threads_run_with_the_slack():
    code = (
        "import threading; out = []; "
        "read = lambda: open(f'/proc/{threading.get_native_id()}/timerslack_ns').read().strip(); "
        "t = threading.Thread(target=lambda: out.append(read())); t.start(); t.join(); "
        "print(read(), out[0])"
    )
    done = slack("3000000", "--", sys.executable, "-c", code)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["3000000", "3000000"]
    # without the wrapper the kernel's default (50 µs) applies
    plain = subprocess.run([sys.executable, "-c", READ_OWN_SLACK], capture_output=True, text=True)
    assert plain.stdout.strip() != "3000000"


@pytest.mark.parametrize(
    "args",
    [("abc", "--", "true"), ("0", "--", "true"), ("200000000", "--", "true"), ("1000", "true")],
)
def test_bad_arguments_are_refused_by_name(args):
    done = slack(*args)
    assert done.returncode != 0
    assert "timer slack" in done.stderr or "usage" in done.stderr


def test_connect_runs_under_the_wrapper():
    command = connect().command
    assert command[1:5] == ["-m", "stack.slack", str(CONNECT_TIMER_SLACK_NS), "--"]
