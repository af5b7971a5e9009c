"""The sink's environment is hostile too: a value it cannot run with stops it at start, by name."""

import subprocess
import sys

import pytest

from connectors.sink.consumer import SinkConfig
from ordersync.environment import BadSetting
from stack import topology

URL = "postgresql://sync_sink:x@127.0.0.1:1/warehouse"


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("SINK_BATCH_SIZE", "0"),
        ("SINK_BATCH_SIZE", "abc"),
        ("SINK_BATCH_SIZE", "2e3"),
        ("SINK_LOCK_TIMEOUT_MS", "-5"),
        ("SINK_PARK_SECONDS", "nan"),
        ("SINK_PARK_SECONDS", "-1"),
        ("SINK_REPLICA", "1000"),
        ("SINK_TOPIC_PARTITIONS", "0"),
        ("SINK_SESSION_TIMEOUT_MS", "99999999"),
    ],
)
def test_a_bad_number_is_refused_by_name(monkeypatch, name, value):
    monkeypatch.setenv("SINK_DATABASE_URL", URL)
    monkeypatch.setenv(name, value)
    with pytest.raises(BadSetting, match=f"^{name}="):
        SinkConfig.from_env("store", "warehouse")


def test_numbers_in_range_are_read(monkeypatch):
    monkeypatch.delenv("SINK_REPLICA", raising=False)
    monkeypatch.setenv("SINK_DATABASE_URL", URL)
    monkeypatch.setenv("SINK_BATCH_SIZE", "500")
    monkeypatch.setenv("SINK_PARK_SECONDS", "2.5")
    config = SinkConfig.from_env("store", "warehouse")
    assert (config.batch_size, config.park_seconds, config.replica) == (500, 2.5, 0)


def test_the_target_database_must_be_named(monkeypatch):
    monkeypatch.delenv("SINK_DATABASE_URL", raising=False)
    with pytest.raises(BadSetting, match="SINK_DATABASE_URL"):
        SinkConfig.from_env("store", "warehouse")


def test_the_process_exits_2_naming_the_variable_before_connecting(monkeypatch):
    env = {"PATH": "/usr/bin:/bin", "SINK_DATABASE_URL": URL, "SINK_METRICS_PORT": "70000"}
    result = subprocess.run(
        [sys.executable, "-m", "connectors.sink", "--source", "store", "--target", "warehouse"],
        cwd=topology.ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2
    assert "SINK_METRICS_PORT='70000'" in result.stderr
