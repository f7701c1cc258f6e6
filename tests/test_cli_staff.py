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
