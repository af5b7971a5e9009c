"""The dev topology's numbers from the environment are checked by name in every process."""

import os
import subprocess
import sys

import pytest

from stack import topology

CHECK = "import ordersync.topology as t; print(t.PORT_OFFSET, t.BROKERS, t.TOPIC_PARTITIONS)"


def run(code: str, **env: str) -> subprocess.CompletedProcess:
    """Run Python code in a fresh process with extra environment variables."""
    return subprocess.run(
        [sys.executable, "-c", code],
        cwd=topology.ROOT,
        env=os.environ | {"PYTHONPATH": str(topology.ROOT)} | env,
        capture_output=True,
        text=True,
        timeout=60,
    )


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("STACK_PORT_OFFSET", "abc"),
        ("STACK_PORT_OFFSET", "-5"),
        ("STACK_PORT_OFFSET", "60000"),
        ("STACK_BROKERS", "1.5"),
        ("STACK_BROKERS", "9"),
        ("STACK_TOPIC_PARTITIONS", "0"),
        ("SINK_REPLICAS", "nan"),
    ],
)
def test_every_process_stops_naming_a_bad_topology_number(name, value):
    result = run(CHECK, **{name: value})
    assert result.returncode == 1
    assert f"{name}='{value}'" in result.stderr
    assert "Traceback" not in result.stderr


def test_two_brokers_are_refused():
    result = run(CHECK, STACK_BROKERS="2")
    assert result.returncode == 1
    assert "STACK_BROKERS='2': Must be one of: 1, 3." in result.stderr


def test_good_topology_numbers_are_read():
    result = run(CHECK, STACK_PORT_OFFSET="100", STACK_BROKERS="", STACK_TOPIC_PARTITIONS="2")
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["100", "1", "2"]
