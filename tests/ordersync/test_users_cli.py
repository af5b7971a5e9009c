"""`flask --app SIDE users ...`: create, list, set-role, disable; passwords from stdin."""

import uuid

from ordersync.auth.users import authenticate, find_user


def run(app, *args, input=None):
    """Invoke a `users` command."""
    return app.test_cli_runner().invoke(args=["users", *args], input=input)


def test_create_reads_the_password_from_stdin_and_it_works(app):
    name = f"cli-{uuid.uuid4().hex[:6]}"
    result = run(app, "create", name, "--role", "editor", input="s3cret-pass\n")
    assert result.exit_code == 0, result.output
    assert f"created editor {name}" in result.output
    assert authenticate(name, "s3cret-pass").role == "editor"
    assert find_user(name).password_hash != "s3cret-pass"


def test_create_refuses_duplicates_unless_exist_ok(app):
    name = f"cli-{uuid.uuid4().hex[:6]}"
    run(app, "create", name, input="pw\n")
    again = run(app, "create", name, input="pw\n")
    assert again.exit_code != 0 and "already exists" in again.output
    assert run(app, "create", name, "--exist-ok", input="pw\n").exit_code == 0


def test_create_needs_a_password(app):
    result = run(app, "create", f"cli-{uuid.uuid4().hex[:6]}", input="\n")
    assert result.exit_code != 0
    assert "no password" in result.output


def test_list_set_role_disable_enable(app):
    name = f"cli-{uuid.uuid4().hex[:6]}"
    run(app, "create", name, input="pw\n")
    assert run(app, "set-role", name, "admin").exit_code == 0
    assert find_user(name).role == "admin"
    assert run(app, "disable", name).exit_code == 0
    listed = run(app, "list").output
    line = next(row for row in listed.splitlines() if row.startswith(name))
    assert "admin" in line and "disabled" in line
    assert authenticate(name, "pw") is None
    run(app, "enable", name)
    assert authenticate(name, "pw") is not None


def test_unknown_user_and_role_are_errors(app):
    assert run(app, "disable", "ghost").exit_code != 0
    assert run(app, "set-role", "editor", "superuser").exit_code != 0
