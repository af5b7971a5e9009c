"""The launcher's and the connectors' own numbers from the environment are checked by name."""

import os
import subprocess
import sys

import pytest

from connectors import register
from ordersync.environment import BadSetting
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
        ("STACK_PORT_OFFSET", "70000"),
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


def test_two_brokers_are_refused_as_before():
    result = run(CHECK, STACK_BROKERS="2")
    assert result.returncode == 1
    assert "STACK_BROKERS must be 1 or 3, not 2" in result.stderr


def test_good_topology_numbers_are_read():
    result = run(CHECK, STACK_PORT_OFFSET="100", STACK_BROKERS="", STACK_TOPIC_PARTITIONS="2")
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["100", "1", "2"]


def test_the_launcher_refuses_a_bad_startup_timeout():
    result = run("import stack.cli", STACK_STARTUP_TIMEOUT="soon")
    assert result.returncode == 1
    assert "STACK_STARTUP_TIMEOUT='soon'" in result.stderr


@pytest.mark.parametrize("name", ["TOPIC_PARTITIONS", "TOPIC_REPLICATION_FACTOR"])
def test_connector_registration_refuses_a_bad_topic_size(monkeypatch, name):
    monkeypatch.setenv(name, "three")
    with pytest.raises(BadSetting, match=name):
        register.configs(register.CONFIG_DIR)


def test_connector_registration_sizes_topics_from_the_environment(monkeypatch):
    monkeypatch.setenv("TOPIC_PARTITIONS", "3")
    spec = register.configs(register.CONFIG_DIR)[0]
    assert spec["config"]["topic.creation.default.partitions"] == "3"


def test_the_watchdog_refuses_a_bad_metrics_port():
    result = run("from connectors import watchdog; watchdog.main()", WATCHDOG_METRICS_PORT="http")
    assert result.returncode == 1
    assert "WATCHDOG_METRICS_PORT='http'" in result.stderr
