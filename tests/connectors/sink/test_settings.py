"""The sink's environment is hostile too: a value it cannot run with stops it at start, by name."""

import subprocess
import sys

import pytest

from connectors.sink import config as sink_config
from connectors.sink.config import SinkConfig, environment
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


def test_what_the_launcher_writes_is_what_the_sink_reads():
    env = environment(dsn=URL, batch_size=7, park_seconds=2.5, replica=3, metrics_port=9999)
    assert all(value.__class__ is str for value in env.values())
    config = SinkConfig.from_env("store", "warehouse", env)
    assert (config.dsn, config.batch_size, config.park_seconds) == (URL, 7, 2.5)
    assert (config.replica, config.metrics_port, config.lock_timeout_ms) == (3, 9999, 10_000)


def test_unset_settings_take_the_declared_defaults():
    config = SinkConfig.from_env("store", "warehouse", {"SINK_DATABASE_URL": URL})
    assert config == SinkConfig("store", "warehouse", URL, kafka=config.kafka)
    assert {d.metadata["variable"] for d in sink_config.settings()} >= {"SINK_BATCH_SIZE"}


def test_the_kafka_address_has_one_name():
    env = {"SINK_DATABASE_URL": URL, "KAFKA_BOOTSTRAP_SERVERS": "kafka:29092"}
    config = SinkConfig.from_env("store", "warehouse", env)
    assert config.kafka["bootstrap.servers"] == "kafka:29092"


def test_a_setting_nobody_declared_is_refused():
    with pytest.raises(TypeError, match="batch"):
        environment(batch=1)


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
