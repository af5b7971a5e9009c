"""`make test` brings Chromium and wrk itself, or stops at once naming the command to run."""

import subprocess

import pytest

from stack import prerequisites, topology


@pytest.fixture
def bare_machine(monkeypatch, tmp_path):
    """A PATH and CHROMIUM that find neither program, and a record of apt-get runs."""
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.setenv("CHROMIUM", str(tmp_path / "chromium"))
    installs = []
    monkeypatch.setattr(prerequisites, "install", lambda packages: installs.append(packages) or 0)
    return installs


def test_missing_names_both_packages_on_a_bare_machine(bare_machine):
    assert prerequisites.missing() == ["chromium", "wrk"]


def test_without_root_it_stops_with_the_one_command(bare_machine, monkeypatch, capsys):
    monkeypatch.setattr(prerequisites.os, "geteuid", lambda: 1000)
    assert prerequisites.main() == 1
    assert bare_machine == []
    assert "sudo apt-get install -y chromium wrk" in capsys.readouterr().err


def test_as_root_with_apt_it_installs_and_checks_again(bare_machine, monkeypatch):
    monkeypatch.setattr(prerequisites.os, "geteuid", lambda: 0)
    monkeypatch.setattr(prerequisites.shutil, "which", lambda name: "/usr/bin/apt-get")
    monkeypatch.setattr(prerequisites, "present", lambda package: False)
    # the fake install changed nothing: still missing, so still a failure
    assert prerequisites.main() == 1
    assert bare_machine == [["chromium", "wrk"]]


def test_nothing_to_do_when_both_are_there(bare_machine, monkeypatch):
    monkeypatch.setattr(prerequisites, "present", lambda package: True)
    assert prerequisites.main() == 0
    assert bare_machine == []


def test_make_test_checks_prerequisites_before_running_the_suite():
    plan = subprocess.run(
        ["make", "-n", "test"], cwd=topology.ROOT, capture_output=True, text=True, check=True
    ).stdout
    assert plan.index("-m stack.prerequisites") < plan.index("-m stack test")
