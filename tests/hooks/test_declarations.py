"""What a plugin declares at start: its settings (``register_settings``), its
tables (``register_migrations``) and its own hooks (``register_hookspecs``)."""
from __future__ import annotations

import types

import marshmallow as ma
import pytest
import sqlalchemy as sa
from alembic.script import ScriptDirectory
from pluginparts import migrating_plugin

from service import create_app, hookimpl, migrations, sdk
from service.cli import main as kefu_cli
from service.extensions import db
from service.hooks import plugins
from service.hooks.manager import PluginStartupError
from service.hooks.report import report


class AcmeSettings(ma.Schema):
    ACME_GREETING = ma.fields.String(load_default="hello", validate=ma.validate.Length(min=1, max=20))
    ACME_LIMIT = ma.fields.Integer(load_default=3, strict=True, validate=ma.validate.Range(min=1, max=10))


class Acme:
    @hookimpl
    def register_settings(self):
        return AcmeSettings


def test_hook_register_settings(app_config, build_app):
    # An app of its own (the ``kefu_plugins`` fixture is bound to ``app``), so
    # the plugin is registered and taken away by hand.
    with build_app({**app_config, "ACME_LIMIT": 7}) as app:
        plugins().register(Acme(), name="acme")
        try:
            assert sdk.plugin_settings("acme") == {"ACME_GREETING": "hello", "ACME_LIMIT": 7}
            # Read again after a change (tests change settings between steps).
            app.config["ACME_GREETING"] = "ni hao"
            assert sdk.plugin_settings("acme")["ACME_GREETING"] == "ni hao"
            # What `kefu plugins --check` prints for it: each setting, its value, set or default.
            lines, problems = report(app, check=True)
            assert "    setting ACME_GREETING = 'ni hao' (set)" in lines
            assert "    setting ACME_LIMIT = 7 (set)" in lines
            del app.config["ACME_GREETING"]
            lines, problems = report(app, check=True)
            assert "    setting ACME_GREETING = 'hello' (default)" in lines and problems == 0
        finally:
            plugins().unregister("acme")

    with pytest.raises(PluginStartupError) as failed:
        create_app({**app_config, "ACME_LIMIT": 11}, plugins=[("acme", Acme())])
    assert "plugin acme failed in register_settings" in str(failed.value)
    assert "ACME_LIMIT" in str(failed.value) and "10" in str(failed.value)
    with pytest.raises(PluginStartupError, match="ACME_GREETING"):
        create_app({**app_config, "ACME_GREETING": ""}, plugins=[("acme", Acme())])


def test_hook_register_migrations(app_config, tmp_path, build_app):
    plugin = migrating_plugin(tmp_path)
    # An app of its own, and the upgrade is the test's: registered by hand,
    # not with the ``kefu_plugins`` fixture (which would apply the migration).
    with build_app(app_config) as app:
        plugins().register(plugin, name="acme")
        assert migrations.pending() == ["acme_0001"]
        try:
            report = app.test_cli_runner().invoke(kefu_cli, ["db", "upgrade"])
            assert report.exit_code == 0, report.output
            assert "acme_notes" in sa.inspect(db.engine).get_table_names()
            assert migrations.pending() == []
            with db.engine.connect() as conn:
                heads = set(conn.execute(sa.text("SELECT version_num FROM alembic_version")).scalars())
            # The core's head, whichever revision that is today.
            core = ScriptDirectory(str(migrations.HERE)).get_heads()
            assert "acme_0001" in heads and set(core) <= heads
        finally:
            # One branch down, the others stay (and a PostgreSQL test database,
            # which outlives the test, is left as it was).
            report = app.test_cli_runner().invoke(kefu_cli, ["db", "downgrade", "acme@base"])
            plugins().unregister("acme")
        assert report.exit_code == 0, report.output
        assert "acme_notes" not in sa.inspect(db.engine).get_table_names()
        assert "tickets" in sa.inspect(db.engine).get_table_names()

    with pytest.raises(PluginStartupError, match="not a directory"):
        class Lost:
            @hookimpl
            def register_migrations(self):
                return str(tmp_path / "nowhere")

        create_app(app_config, plugins=[("lost", Lost())])


def test_hook_register_hookspecs(kefu_plugins, client, agent, file_ticket):
    specs = types.ModuleType("acme_specs")

    @sdk.notification
    def acme_noticed(ticket, reason: str) -> None:
        """Acme noticed something about a ticket.

        :param ticket: the ticket.
        :param reason: what it noticed.
        :return: ignored.
        """

    @sdk.decider
    def acme_score(ticket) -> int | None:
        """Score a ticket.

        :param ticket: the ticket.
        :return: a number, or None.
        """

    specs.acme_noticed, specs.acme_score = acme_noticed, acme_score

    class Declares:
        @hookimpl
        def register_hookspecs(self):
            return specs

    class Listens:
        heard = []

        @hookimpl
        def acme_noticed(self, ticket, reason):
            self.heard.append((ticket.number, reason))

        @hookimpl
        def acme_score(self, ticket):
            return 42

    class Fails:
        @hookimpl
        def acme_noticed(self):
            raise RuntimeError("listener down")

    kefu_plugins.register(Declares(), name="acme")
    kefu_plugins.register(Listens(), name="listens")
    kefu_plugins.register(Fails(), name="fails")
    manager = kefu_plugins.manager
    assert manager.kind("acme_noticed") == "notification" and manager.kind("acme_score") == "decider"

    number = file_ticket()["number"]
    ticket = sdk.get_ticket(number)
    with sdk.UnitOfWork() as uow:
        uow.emit("acme_noticed", ticket=ticket, reason="third complaint this week")
        assert Listens.heard == []  # only after the commit
        uow.commit()
    assert Listens.heard == [(number, "third complaint this week")]
    answer, plugin, failures = sdk.ask("acme_score", ticket=ticket)
    assert (answer, plugin, failures) == (42, "listens", [])
    history = client.get(f"/api/v1/tickets/{number}/history", headers=agent).json
    assert [(e["actor"]["name"], e["details"]["hook"]) for e in history if e["action"] == "plugin_error"] == [
        ("fails", "acme_noticed")]

    # A hook nobody declares is refused at registration, naming it.
    class Stray:
        @hookimpl
        def acme_unknown(self):
            pass

    with pytest.raises(Exception, match="acme_unknown, which no spec declares"):
        kefu_plugins.register(Stray(), name="stray")
    assert "stray" not in [info.name for info in manager.infos]


def test_hookwrappers_are_refused_at_registration(app_config):
    class Wraps:
        @hookimpl(wrapper=True)
        def ticket_created(self, ticket):
            return (yield)

    with pytest.raises(PluginStartupError, match="ticket_created is a hookwrapper"):
        create_app(app_config, plugins=[("wraps", Wraps())])
