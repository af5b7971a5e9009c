"""The watchdog's decisions: which connectors to restart, and how often."""

import psycopg2.errors
from prometheus_client import REGISTRY

from connectors.slots import WAL_STATUSES, Slot, drop_lost
from connectors.watchdog import Watchdog, failed, slots_of
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


def connector(side: str, slot: str) -> dict:
    """A connector as `GET /connectors?expand=info` shows it."""
    return {"info": {"config": {"database.dbname": side, "slot.name": slot}}}


def test_slots_are_watched_only_on_sides_with_a_database_login():
    found = slots_of(
        [connector("store", "store_cdc"), connector("warehouse", "warehouse_cdc")],
        {"store": "postgresql://..."},
    )
    assert found == {"store": {"store_cdc"}}


def test_until_connect_answers_the_shipped_configs_name_the_slots():
    dog = Watchdog("http://connect", databases={"store": "a", "warehouse": "b"})
    assert dog.slots == {"store": {"store_cdc"}, "warehouse": {"warehouse_cdc"}}


def gauge(name: str, **labels) -> float | None:
    """The current value of one of the watchdog's series."""
    return REGISTRY.get_sample_value(name, labels)


def test_a_missing_slot_is_exported_as_absent_and_in_no_status():
    Watchdog.export("store", "gone_cdc", None)
    assert gauge("pg_replication_slot_present", side="store", slot="gone_cdc") == 0
    for status in WAL_STATUSES:
        labels = {"side": "store", "slot": "gone_cdc", "status": status}
        assert gauge("pg_replication_slot_wal_status", **labels) == 0


def test_a_lost_slot_is_exported_lost_and_only_a_lost_one_is_dropped():
    lost = Slot("x_cdc", False, "lost", None, None, None)
    Watchdog.export("store", "x_cdc", lost)
    assert gauge("pg_replication_slot_wal_status", side="store", slot="x_cdc", status="lost") == 1
    assert gauge("pg_replication_slot_safe_wal_bytes", side="store", slot="x_cdc") == -1

    class Conn:
        def cursor(self):
            raise AssertionError("a healthy slot is never dropped")

    assert drop_lost(Conn(), Slot("y_cdc", True, "reserved", 10, 5, 100)) is False


def test_a_refused_drop_is_logged_and_the_watchdog_goes_on(caplog):
    class Refusing:
        def cursor(self):
            raise psycopg2.errors.InsufficientPrivilege("must be superuser or replication role")

    dog = Watchdog("http://connect", databases={"store": "a"})
    dog.conns["store"] = Refusing()
    dog.drop_if_lost("store", Slot("store_cdc", False, "lost", None, None, None))
    assert "cannot drop slot store_cdc of store" in caplog.text
