"""Secrets: fail closed outside development, one set per side, never readable or printed."""

import json
import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from ordersync.environment import UnsafeSettings
from ordersync.service.settings import ServiceSettings, dev_secret
from stack import supervisor, topology
from stack.cli import announce_admin_password
from stack.components import app_env
from stack.secrets import ADMIN_PASSWORD_FILE, SECRETS_FILE, admin_password
from tests.support.processes import run_module

STRONG = {"DATABASE_URL": "postgresql://u:p@db/store", "SECRET_KEY": "s" * 40}
STRONG |= {"JWT_SECRET_KEY": "j" * 40}
APPS = ("store-app", "warehouse-app")


@pytest.mark.parametrize("app_env", [None, "", "prod", "Production", "staging", "developmnt"])
def test_anything_but_development_or_test_refuses_development_secrets(app_env):
    environ = {"DATABASE_URL": STRONG["DATABASE_URL"]}
    if app_env is not None:
        environ["APP_ENV"] = app_env
    with pytest.raises(UnsafeSettings, match="SECRET_KEY must be set .* APP_ENV is"):
        ServiceSettings("store", environ)


@pytest.mark.parametrize("app_env", [None, "prod"])
def test_anything_but_development_refuses_a_missing_database_url(app_env):
    environ = {k: v for k, v in STRONG.items() if k != "DATABASE_URL"}
    if app_env:
        environ["APP_ENV"] = app_env
    with pytest.raises(UnsafeSettings, match="DATABASE_URL"):
        ServiceSettings("warehouse", environ)


def test_an_unknown_app_env_with_strong_secrets_runs_as_production():
    settings = ServiceSettings("store", STRONG | {"APP_ENV": "prod"})
    assert settings.SECRET_KEY == STRONG["SECRET_KEY"]
    assert settings.SESSION_COOKIE_SECURE is True


@pytest.mark.parametrize("name", ["SECRET_KEY", "JWT_SECRET_KEY"])
def test_production_refuses_a_development_secret_even_of_the_other_side(name):
    environ = STRONG | {"APP_ENV": "production", name: dev_secret("warehouse", name) + "x" * 32}
    with pytest.raises(UnsafeSettings, match=name):
        ServiceSettings("store", environ)


@pytest.mark.parametrize("app_env", ["development", "test"])
def test_development_secrets_differ_per_side_and_per_key(app_env):
    store = ServiceSettings("store", {"APP_ENV": app_env})
    warehouse = ServiceSettings("warehouse", {"APP_ENV": app_env})
    keys = {store.SECRET_KEY, store.JWT_SECRET_KEY, warehouse.SECRET_KEY, warehouse.JWT_SECRET_KEY}
    assert len(keys) == 4
    assert store.SESSION_COOKIE_SECURE is False


def test_an_app_without_app_env_refuses_to_start_with_a_clear_message():
    env = {k: v for k, v in os.environ.items() if k not in ("APP_ENV", "SECRET_KEY")}
    result = subprocess.run(
        [sys.executable, "-c", "import store; store.create_app()"],
        env=env | {"DATABASE_URL": "postgresql://u:p@127.0.0.1:1/x"},
        cwd=topology.ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode != 0
    assert "SECRET_KEY must be set to a random string of 32+ characters" in result.stderr
    assert "APP_ENV is ''" in result.stderr


def process_environment(name: str) -> dict[str, str]:
    """The environment a running component of the stack was started with."""
    pid = supervisor.states()[name]["pid"]
    raw = Path(f"/proc/{pid}/environ").read_bytes().split(b"\0")
    return dict(item.decode().split("=", 1) for item in raw if b"=" in item)


def test_the_launcher_starts_each_app_explicitly_in_development_with_its_own_keys(stack):
    store, warehouse = (process_environment(name) for name in APPS)
    assert store["APP_ENV"] == warehouse["APP_ENV"] == "development"
    for key in ("SECRET_KEY", "JWT_SECRET_KEY"):
        assert len(store[key]) >= 32 and len(warehouse[key]) >= 32
        assert store[key] != warehouse[key]
    assert store["SECRET_KEY"] != store["JWT_SECRET_KEY"]


def test_the_launcher_passes_the_operators_app_settings_on(monkeypatch):
    monkeypatch.setenv("RATELIMIT_STORAGE_URI", "redis://cache:6379/0")
    monkeypatch.setenv("TRUSTED_PROXIES", "1")
    env = app_env("store")
    assert env["RATELIMIT_STORAGE_URI"] == "redis://cache:6379/0"
    assert env["TRUSTED_PROXIES"] == "1"
    assert env["APP_ENV"] == "development"


@pytest.mark.parametrize(
    "path", [topology.CONF / "supervisord.conf", SECRETS_FILE, ADMIN_PASSWORD_FILE]
)
def test_files_that_hold_secrets_are_owner_only(stack, path):
    assert path.exists(), path
    assert stat.S_IMODE(path.stat().st_mode) & 0o077 == 0, oct(path.stat().st_mode)


def secret_values() -> list[str]:
    """Every secret the launcher generated or uses."""
    stored = json.loads(SECRETS_FILE.read_text())
    return [admin_password()[0], *(v for side in stored.values() for v in side.values())]


def test_secrets_reach_no_launcher_output_and_no_log(stack):
    outputs = [run_module("stack", command) for command in ("up", "status")]
    texts = [result.stdout + result.stderr for result in outputs]
    texts += [path.read_text(errors="replace") for path in topology.LOGS.glob("*.log")]
    assert outputs[0].returncode == 0, texts[0]
    for value in secret_values():
        assert not any(value in text for text in texts)


def test_a_new_admin_password_is_shown_on_a_terminal_only(capsys, monkeypatch):
    announce_admin_password("pw-not-for-ci-logs")
    printed = capsys.readouterr().out
    assert "pw-not-for-ci-logs" not in printed and str(ADMIN_PASSWORD_FILE) in printed
    monkeypatch.setattr(sys.stdout, "isatty", lambda: True)
    announce_admin_password("pw-for-a-person")
    assert "pw-for-a-person" in capsys.readouterr().out
