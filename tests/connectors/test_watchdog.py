"""The watchdog's decisions: which connectors to restart, and how often."""

from connectors.watchdog import Watchdog, failed
from tests.support.processes import run_module


def status(connector="RUNNING", *tasks):
    """A Connect status document."""
    return {"connector": {"state": connector}, "tasks": [{"state": t} for t in tasks]}


def test_failed_connector_or_task_is_detected():
    assert failed(status("RUNNING", "FAILED"))
    assert failed(status("FAILED"))
    assert not failed(status("RUNNING", "RUNNING"))
    assert not failed(status("PAUSED", "PAUSED"))


class FakeConnect:
    """Answers like Connect's REST API and records restart requests."""

    def __init__(self, statuses):
        self.statuses, self.restarts = statuses, []

    def get(self, url, timeout, params=None):
        answer = {"json": lambda _: self.statuses, "raise_for_status": lambda _: None}
        return type("R", (), answer | {"status_code": 200})()

    def post(self, url, params, timeout):
        self.restarts.append((url, params))


def test_only_failed_connectors_are_restarted_with_growing_backoff(monkeypatch):
    fake = FakeConnect(
        {
            "a": {"status": status("RUNNING", "FAILED")},
            "b": {"status": status("RUNNING", "RUNNING")},
        }
    )
    dog = Watchdog("http://connect", interval=1.0)
    monkeypatch.setattr(dog, "http", fake)
    dog.check_once()
    dog.check_once()  # still failed, but inside its backoff window
    assert fake.restarts == [
        ("http://connect/connectors/a/restart", {"includeTasks": "true", "onlyFailed": "true"})
    ]
    assert dog.backoff["a"] == 2.0
    fake.statuses["a"] = {"status": status("RUNNING", "RUNNING")}
    dog.check_once()
    assert "a" not in dog.backoff


def test_a_bad_metrics_port_stops_the_watchdog_by_name():
    result = run_module("connectors.watchdog", env={"WATCHDOG_METRICS_PORT": "http"}, timeout=60)
    assert result.returncode == 1
    assert "WATCHDOG_METRICS_PORT='http'" in result.stderr
    assert "Traceback" not in result.stderr


def test_a_bad_interval_stops_the_watchdog_by_name():
    for value in ("0", "soon", "nan"):
        result = run_module(
            "connectors.watchdog", env={"WATCHDOG_INTERVAL_SECONDS": value}, timeout=60
        )
        assert result.returncode == 1
        assert f"WATCHDOG_INTERVAL_SECONDS={value!r}" in result.stderr
        assert "Traceback" not in result.stderr
