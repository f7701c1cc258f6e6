"""Staff accounts from the command line: create, another token, revoke."""
import pytest

from service.cli import main


@pytest.fixture
def cli(app):
    from flask.cli import ScriptInfo

    runner = app.test_cli_runner()
    return lambda *args: runner.invoke(main, list(args), obj=ScriptInfo(create_app=lambda: app))


def test_token_and_revoke_token(cli, client, departments):
    created = cli("staff", "create", "--email", "li@kefu.test", "--name", "Li", "--role", "agent")
    assert created.exit_code == 0, created.output
    first = created.output.strip().splitlines()[-1]
    issued = cli("staff", "token", "--email", "LI@kefu.test")
    assert issued.exit_code == 0, issued.output
    second = issued.output.strip().splitlines()[-1]
    assert first != second
    for token in (first, second):
        assert client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"}).status_code == 200

    revoked = cli("staff", "revoke-token", first)
    assert revoked.exit_code == 0 and "revoked" in revoked.output
    assert client.get("/api/v1/me", headers={"Authorization": f"Bearer {first}"}).status_code == 401
    assert client.get("/api/v1/me", headers={"Authorization": f"Bearer {second}"}).status_code == 200
    again = cli("staff", "revoke-token", first)
    assert again.exit_code != 0 and "no such active token" in again.output


def test_token_for_unknown_staff_is_a_clear_error(cli, app):
    result = cli("staff", "token", "--email", "nobody@kefu.test")
    assert result.exit_code != 0 and "no staff member nobody@kefu.test" in result.output


def test_set_password_ends_console_sessions(cli, app, client, staff_login):
    from webpages import PASSWORD, csrf_of

    me = staff_login("agent")
    assert client.get("/console/").status_code == 200
    short = cli("staff", "set-password", "--email", me.email, "--password", "short")
    assert short.exit_code != 0 and "password: must be 10 to 200 characters long" in short.output
    assert client.get("/console/").status_code == 200  # nothing changed
    changed = cli("staff", "set-password", "--email", me.email.upper(), "--password", "a new long passphrase")
    assert changed.exit_code == 0 and f"password set for {me.email}" in changed.output, changed.output
    ended = client.get("/console/")
    assert ended.status_code == 302 and ended.headers["Location"].startswith("/console/login")
    page = client.get("/console/login").text
    assert client.post("/console/login", data={"email": me.email, "password": PASSWORD,
                                                "csrf_token": csrf_of(page)}).status_code == 401
    assert client.post("/console/login", data={"email": me.email, "password": "a new long passphrase",
                                                "csrf_token": csrf_of(page)}).status_code == 302


def test_set_password_asks_twice_without_echo_when_not_given(app, staff_login):
    from flask.cli import ScriptInfo

    from service.extensions import db
    from service.usecases.auth import check_password

    me = staff_login("agent")
    runner = app.test_cli_runner()
    result = runner.invoke(main, ["staff", "set-password", "--email", me.email],
                           input="a new long passphrase\n" * 2, obj=ScriptInfo(create_app=lambda: app))
    assert result.exit_code == 0, result.output
    assert "a new long passphrase" not in result.output
    db.session.refresh(me)
    assert check_password(me, "a new long passphrase")


def test_set_password_for_unknown_staff_is_a_clear_error(cli, app):
    result = cli("staff", "set-password", "--email", "nobody@kefu.test", "--password", "a new long passphrase")
    assert result.exit_code != 0 and "no staff member nobody@kefu.test" in result.output
