"""``kefu plugins --check``: every plugin's hooks, settings and migrations,
ending in a table; exit status 1 on any problem (for an integrator's CI)."""
from __future__ import annotations

import marshmallow as ma
import pytest
import sqlalchemy as sa
from pluginparts import migrating_plugin

from service import create_app, hookimpl
from service.cli import main as kefu_cli
from service.extensions import db
from service.hooks.report import report


def _row(output: str, name: str) -> list[str]:
    """The table row of plugin ``name``, split into its cells."""
    header = next(i for i, line in enumerate(output.splitlines()) if line.startswith("plugin "))
    for line in output.splitlines()[header + 1:]:
        if line.split()[0] == name:
            return line.split("  ")
    raise AssertionError(f"no row for {name} in\n{output}")


def _cells(output: str, name: str) -> list[str]:
    return [c.strip() for c in _row(output, name) if c.strip()]


def check(app) -> tuple[int, str]:
    result = app.test_cli_runner().invoke(kefu_cli, ["plugins", "--check"])
    return result.exit_code, result.output


def test_a_clean_installation_checks_clean_with_a_table(app):
    code, output = check(app)
    assert code == 0, output
    assert output.rstrip().endswith("check: no problems")
    assert _cells(output, "tier_sla")[1:] == ["enabled", "ok (21)", "ok (6)", "up to date", "ok"]
    assert _cells(output, "core")[1:] == ["enabled", "ok (5)", "-", "up to date", "ok"]


def test_a_hook_without_its_marker_is_a_problem(app, kefu_plugins):
    class Forgetful:
        @hookimpl
        def ticket_created(self, ticket):
            pass

        def ticket_transitioned(self, ticket, action):  # the marker forgotten: never called
            pass

    kefu_plugins.register(Forgetful(), name="forgetful")
    code, output = check(app)
    assert code == 1
    assert "    PROBLEM hooks: ticket_transitioned is not marked @hookimpl: kefu never calls it" in output
    assert _cells(output, "forgetful")[1:] == ["enabled", "1 problem(s)", "-", "-", "1 problem(s)"]
    assert "check: 1 problem(s)" in output


def test_a_misspelt_hook_an_extra_argument_and_a_wrapper_are_problems(app_config):
    class Misspelt:
        @hookimpl
        def ticket_creatd(self, ticket):
            pass

    class ExtraArgument:
        @hookimpl
        def ticket_created(self, ticket, customer_mood):
            pass

    class Wrapper:
        @hookimpl(wrapper=True)
        def ticket_created(self, ticket):
            return (yield)

    app = create_app(app_config, strict=False,
                     plugins=[("misspelt", Misspelt()), ("extra", ExtraArgument()), ("wrapper", Wrapper())])
    with app.app_context():
        lines, problems = report(app, check=True)
    output = "\n".join(lines)
    assert problems == 3
    assert "implements ticket_creatd, which no spec declares" in output
    # pluggy's own validation names the argument the spec does not give.
    assert "FAILED register: PluginValidationError: Plugin 'extra' for hook 'ticket_created'" in output
    assert "ticket_created(ticket, customer_mood)" in output
    assert "wrapper.ticket_created is a hookwrapper" in output
    for name in ("misspelt", "extra", "wrapper"):
        assert _cells(output, name)[1:3] == ["failed", "failed"], output


class Limits(ma.Schema):
    ACME_LIMIT = ma.fields.Integer(load_default=5)
    ACME_GREETING = ma.fields.String(load_default="hello")


class Declaring:
    @hookimpl
    def register_settings(self):
        return Limits


@pytest.mark.kefu_settings(ACME_LIMT=9, ACME_LIMIT=7)
def test_a_misspelt_setting_is_a_problem_and_declared_ones_are_listed(app, kefu_plugins):
    kefu_plugins.register(Declaring(), name="acme")
    code, output = check(app)
    assert code == 1
    assert "    setting ACME_LIMIT = 7 (set)" in output and "    setting ACME_GREETING = 'hello' (default)" in output
    assert ("    PROBLEM settings: setting ACME_LIMT is set but acme declares no such setting "
            "(declared: ACME_LIMIT, ACME_GREETING)") in output
    assert _cells(output, "acme")[3] == "1 problem(s)"


def test_pending_and_orphaned_migrations_are_problems(app, kefu_plugins, tmp_path):
    kefu_plugins.register(migrating_plugin(tmp_path), name="acme", migrate=False)
    code, output = check(app)
    assert code == 1 and "    migrations: 1 pending (acme_0001): run kefu db upgrade" in output
    assert _cells(output, "acme")[4] == "1 pending"

    from service import migrations

    migrations.upgrade()
    code, output = check(app)
    assert code == 0 and _cells(output, "acme")[4] == "up to date", output

    # Uninstalled without taking its branch away: the database has a revision nobody ships.
    kefu_plugins.unregister("acme")
    code, output = check(app)
    assert code == 1
    assert "database: revision(s) acme_0001 applied but shipped by no installed plugin" in output
    # Put back as an operator would, so the test database is as it was.
    with db.engine.begin() as conn:
        conn.execute(sa.text("DELETE FROM alembic_version WHERE version_num = 'acme_0001'"))
        conn.execute(sa.text("DROP TABLE acme_notes"))


def test_an_optional_hook_of_a_plugin_that_is_off_is_no_problem(app, kefu_plugins):
    class Chatty:
        @hookimpl(optionalhook=True)
        def acme_breached(self, ticket):  # a hook another (absent) plugin would declare
            pass

        @hookimpl
        def ticket_created(self, ticket):
            pass

    kefu_plugins.register(Chatty(), name="chatty")
    code, output = check(app)
    assert code == 0, output
    assert _cells(output, "chatty")[1:] == ["enabled", "ok (2)", "-", "-", "ok"]

    class Misspelt:
        @hookimpl
        def acme_breached(self, ticket):  # not optional: refused, naming it
            pass

    with pytest.raises(Exception, match="implements acme_breached, which no spec declares"):
        kefu_plugins.register(Misspelt(), name="misspelt")
