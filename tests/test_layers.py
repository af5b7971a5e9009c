"""Imports only point down: the import-linter contracts in pyproject.toml, and what they miss."""

import ast
import shutil
import subprocess

import pytest

from stack import topology

PACKAGES = ("ordersync", "store", "warehouse", "connectors", "stack", "bench", "tests")


def lint_imports(root) -> subprocess.CompletedProcess:
    """Run import-linter on a source tree."""
    return subprocess.run(
        [str(topology.VENV_BIN / "lint-imports"), "--no-cache"],
        cwd=root,
        env={"PYTHONPATH": str(root), "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        timeout=120,
    )


def copy_tree(target) -> None:
    """Copy the project's Python packages and its contracts into a scratch folder."""
    for package in PACKAGES:
        shutil.copytree(
            topology.ROOT / package, target / package, ignore=shutil.ignore_patterns("*.pyc")
        )
    shutil.copy(topology.ROOT / "pyproject.toml", target)


def test_every_import_points_down():
    result = lint_imports(topology.ROOT)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout


def test_an_import_back_up_is_caught(tmp_path):
    copy_tree(tmp_path)
    with (tmp_path / "ordersync" / "service" / "settings.py").open("a") as settings:
        settings.write("\nfrom stack import secrets  # noqa\n")
    result = lint_imports(tmp_path)
    assert result.returncode == 1
    assert "ordersync.service.settings -> stack.secrets" in result.stdout


@pytest.mark.parametrize(
    ("importer", "imported"),
    [
        ("ordersync.sync.mapping", "ordersync.db.roles"),  # the contract reaching up
        ("ordersync.db.roles", "ordersync.kafka.access"),  # PostgreSQL and Kafka never meet
        ("ordersync.api.resources", "ordersync.admin.dashboard"),  # siblings
        ("ordersync.web.errors", "ordersync.auth.users"),  # plumbing reaching up
        ("ordersync.sync.fieldkinds", "sqlalchemy"),  # the contract stays pure
        ("connectors.sink.merge", "ordersync.web.extensions"),  # the connectors run without Flask
    ],
)
def test_an_import_across_the_layers_inside_is_caught(tmp_path, importer, imported):
    copy_tree(tmp_path)
    with (tmp_path / f"{importer.replace('.', '/')}.py").open("a") as source:
        source.write(f"\nimport {imported}  # noqa\n")
    result = lint_imports(tmp_path)
    assert result.returncode == 1
    assert f"{importer} -> {imported}" in result.stdout


def our_modules(path) -> set[str]:
    """The project's modules a module imports anywhere in its body ("(relative)" for `from .`)."""
    names = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            names.add(node.module if node.level == 0 else "(relative)")
    return {name for name in names if name.split(".")[0] in {*PACKAGES, "(relative)"}}


def our_imports(path) -> set[str]:
    """The project's packages a module imports, anywhere in its body."""
    return {name.split(".")[0] for name in our_modules(path)}


def test_the_topology_leaf_imports_nothing_of_ours(tmp_path):
    # but the environment's number rules, a leaf of their own
    leaf = topology.ROOT / "ordersync"
    assert our_modules(leaf / "topology.py") == {"ordersync.environment"}
    assert our_imports(leaf / "environment.py") == set()
    tainted = tmp_path / "topology.py"
    tainted.write_text("import os\n\n\ndef f():\n    from ordersync import mapping\n")
    assert our_imports(tainted) == {"ordersync"}


def test_the_migrations_import_only_the_database_and_the_contract():
    # a folder of scripts, not a package: import-linter does not see it
    migrations = topology.ROOT / "ordersync" / "db" / "migrations"
    imported = set().union(*(our_modules(path) for path in migrations.rglob("*.py")))
    assert imported, "no migration imports anything of ours"
    assert {name.split(".")[1] for name in imported} <= {"db", "sync"}, imported
