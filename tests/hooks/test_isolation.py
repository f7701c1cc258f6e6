"""A plugin's failure never costs a ticket: the isolation rules of service/hooks/specs.py.

Plugins here are registered on the built app with the ``kefu_plugins``
fixture, validated and started the way an installed entry point would be,
and taken away again at the end of the test.
"""
from __future__ import annotations

import logging
import re
from datetime import datetime, timedelta

import pytest
import sqlalchemy as sa

from service import create_app, hookimpl
from service.hooks import plugins
from service.hooks.manager import PluginStartupError
from service.extensions import db
from service.models import Category, Customer, Ticket

NOTIFICATIONS = ("ticket_created", "ticket_transitioned", "ticket_updated", "message_added",
                 "resolution_answered")


def history_of(client, headers, number):
    response = client.get(f"/api/v1/tickets/{number}/history", headers=headers)
    assert response.status_code == 200
    return response.json


def plugin_errors(client, headers, number):
    return [(e["actor"]["type"], e["actor"]["name"], e["details"]["hook"], e["details"]["error"])
            for e in history_of(client, headers, number) if e["action"] == "plugin_error"]


class Recorder:
    """Remembers every notification it receives, as (hook, ticket number, status)."""

    def __init__(self):
        self.calls = []

    @hookimpl
    def ticket_created(self, ticket):
        self.calls.append(("ticket_created", ticket.number, ticket.status))

    @hookimpl
    def ticket_transitioned(self, ticket, action):
        self.calls.append(("ticket_transitioned", ticket.number, ticket.status))

    @hookimpl
    def ticket_updated(self, ticket):
        self.calls.append(("ticket_updated", ticket.number, ticket.status))

    @hookimpl
    def message_added(self, ticket):
        self.calls.append(("message_added", ticket.number, ticket.status))

    @hookimpl
    def resolution_answered(self, ticket):
        self.calls.append(("resolution_answered", ticket.number, ticket.status))


class Boom:
    """Every notification raises."""

    def __init__(self, message="mail server down"):
        self.message = message

    def _fail(self):
        raise RuntimeError(self.message)

    @hookimpl
    def ticket_created(self):
        self._fail()

    @hookimpl
    def ticket_transitioned(self):
        self._fail()

    @hookimpl
    def message_added(self):
        self._fail()


# -- notifications ---------------------------------------------------------


def test_failing_notification_keeps_the_ticket_and_is_recorded(kefu_plugins, client, agent, file_ticket, caplog):
    before, after = Recorder(), Recorder()
    kefu_plugins.register(before, name="recorder_before")
    kefu_plugins.register(Boom(), name="boom")
    kefu_plugins.register(after, name="recorder_after")  # pluggy calls the last registered first

    with caplog.at_level(logging.ERROR, logger="kefu.plugins"):
        filed = file_ticket()  # asserts 201
    number = filed["number"]

    ticket = client.get(f"/api/v1/tickets/{number}", headers=agent)
    assert ticket.status_code == 200 and ticket.json["status"] == "new"
    assert db.session.scalar(sa.select(Ticket.status).where(Ticket.number == number)) == "new"
    # The plugins before and after the failing one were both called.
    assert before.calls == after.calls == [("ticket_created", number, "new")]
    logged = [r for r in caplog.records if r.name == "kefu.plugins" and r.levelno == logging.ERROR]
    assert len(logged) == 1
    assert "plugin boom failed in ticket_created: mail server down" in logged[0].getMessage()
    assert "Traceback" in logged[0].getMessage()
    assert plugin_errors(client, agent, number) == [
        ("plugin", "boom", "ticket_created", "RuntimeError: mail server down")]


def test_failing_notification_on_a_transition_and_a_message(kefu_plugins, client, agent, act, file_ticket):
    number = file_ticket()["number"]
    recorder = kefu_plugins.register(Recorder(), name="recorder")
    kefu_plugins.register(Boom("smtp timeout"), name="boom")

    confirmed = act(agent, number, "confirm", department="logistics")  # asserts 200
    assert confirmed["status"] == "confirmed" and confirmed["department"] == "logistics"
    reply = client.post(f"/api/v1/tickets/{number}/messages", headers=agent, json={"body": "On its way."})
    assert reply.status_code == 201

    assert client.get(f"/api/v1/tickets/{number}", headers=agent).json["status"] == "confirmed"
    assert [m["body"] for m in client.get(f"/api/v1/tickets/{number}/messages", headers=agent).json] == [
        "On its way."]
    assert recorder.calls == [("ticket_transitioned", number, "confirmed"),
                              ("message_added", number, "confirmed")]
    assert plugin_errors(client, agent, number) == [
        ("plugin", "boom", "ticket_transitioned", "RuntimeError: smtp timeout"),
        ("plugin", "boom", "message_added", "RuntimeError: smtp timeout"),
    ]


class HalfWriter:
    """Writes to the database inside a notification, then fails."""

    @hookimpl
    def ticket_created(self, ticket):
        db.session.add(Category(code="half_written", name="Half written", active=True, position=1))
        ticket.subject = "overwritten by a plugin"
        db.session.flush()
        raise ValueError("crashed half-way")


def test_failing_notification_half_write_is_rolled_back_but_the_ticket_stays(kefu_plugins, client, agent, file_ticket):
    kefu_plugins.register(HalfWriter(), name="half_writer")
    number = file_ticket(subject="Fridge is noisy")["number"]

    db.session.remove()
    ticket = db.session.scalar(sa.select(Ticket).where(Ticket.number == number))
    assert ticket is not None and ticket.subject == "Fridge is noisy" and ticket.status == "new"
    assert db.session.scalar(sa.select(Category).where(Category.code == "half_written")) is None
    assert plugin_errors(client, agent, number) == [
        ("plugin", "half_writer", "ticket_created", "ValueError: crashed half-way")]


class CommitSpy:
    """Checks, from a separate database connection, that the ticket is already committed."""

    def __init__(self):
        self.seen = []

    @hookimpl
    def ticket_created(self, ticket):
        with db.engine.connect() as conn:
            self.seen.append(conn.execute(sa.select(Ticket.status).where(Ticket.number == ticket.number))
                             .scalar_one_or_none())


def test_notification_sees_the_committed_ticket(kefu_plugins, file_ticket):
    spy = kefu_plugins.register(CommitSpy(), name="spy")
    file_ticket()
    assert spy.seen == ["new"]


def test_failed_use_cases_notify_nobody(kefu_plugins, client, agent, act, file_ticket):
    recorder = kefu_plugins.register(Recorder(), name="recorder")

    unknown = client.post("/api/v1/public/tickets", json={
        "name": "Wang Fang", "email": "wang@example.test", "category": "no_such_category",
        "subject": "Broken", "description": "It broke."})
    assert unknown.status_code == 422 and "category" in unknown.json["error"]["fields"]
    assert db.session.scalar(sa.select(sa.func.count(Ticket.id))) == 0
    assert db.session.scalar(sa.select(sa.func.count(Customer.id))) == 0

    number = file_ticket()["number"]
    assert recorder.calls == [("ticket_created", number, "new")]
    recorder.calls.clear()
    version = client.get(f"/api/v1/tickets/{number}", headers=agent).json["version"]

    act(agent, number, "confirm", expect=422)  # no department
    act(agent, number, "confirm", expect=422, department="no_such_department")
    act(agent, number, "resolve", expect=409, resolution="too early")
    stale = client.post(f"/api/v1/tickets/{number}/transitions", headers=agent,
                        json={"action": "confirm", "department": "logistics", "version": version - 1})
    assert stale.status_code == 409
    bad_patch = client.patch(f"/api/v1/tickets/{number}", headers=agent,
                             json={"version": version, "priority": "high", "category": "no_such_category"})
    assert bad_patch.status_code == 422
    blank = client.post(f"/api/v1/tickets/{number}/messages", headers=agent, json={"body": "   "})
    assert blank.status_code == 422

    assert recorder.calls == []
    ticket = client.get(f"/api/v1/tickets/{number}", headers=agent).json
    assert (ticket["status"], ticket["priority"], ticket["version"]) == ("new", "normal", version)


class BadQuery:
    """A notification whose query fails (on PostgreSQL this aborts the transaction)."""

    @hookimpl
    def ticket_created(self):
        db.session.execute(sa.text("SELECT * FROM no_such_table"))


class Reader:
    """A healthy notification that reads the database."""

    def __init__(self):
        self.counts = []

    @hookimpl
    def ticket_created(self, ticket):
        self.counts.append((ticket.number, db.session.scalar(sa.select(sa.func.count(Ticket.id)))))


def test_failed_query_in_one_notification_does_not_fail_the_next(kefu_plugins, client, agent, file_ticket):
    reader = kefu_plugins.register(Reader(), name="reader")
    kefu_plugins.register(BadQuery(), name="bad_query")  # called first
    number = file_ticket()["number"]
    assert reader.counts == [(number, 1)]
    errors = plugin_errors(client, agent, number)
    assert [e[:3] for e in errors] == [("plugin", "bad_query", "ticket_created")]
    assert "no_such_table" in errors[0][3]


# -- deciders --------------------------------------------------------------


class BrokenDeciders:
    @hookimpl
    def sla_targets(self, ticket):
        raise KeyError("calendar")

    @hookimpl
    def customer_tier(self, customer):
        raise ConnectionError("CRM unreachable")

    @hookimpl
    def remedy_approval(self, ticket):
        raise RuntimeError("credit service down")


@pytest.mark.parametrize("overrides", [{"DISABLED_PLUGINS": ["tier_sla"]}])  # the core defaults answer
def test_failing_deciders_fall_back_to_the_core_defaults(kefu_plugins, client, agent, file_ticket, caplog):
    kefu_plugins.register(BrokenDeciders(), name="broken")
    with caplog.at_level(logging.ERROR, logger="kefu.plugins"):
        filed = file_ticket(remedy={"text": "refund", "amount": "50.00", "currency": "CNY"})
    number = filed["number"]

    ticket = client.get(f"/api/v1/tickets/{number}", headers=agent).json
    assert ticket["status"] == "new"
    assert ticket["sla"]["policy"] == "default:normal"
    created = datetime.fromisoformat(ticket["created_at"])
    assert datetime.fromisoformat(ticket["sla"]["first_response_due"]) - created == timedelta(hours=8)
    assert datetime.fromisoformat(ticket["sla"]["resolution_due"]) - created == timedelta(days=3)
    assert ticket["customer_tier"] is None
    assert ticket["remedy"]["decision"] == "needs_approval"  # DEFAULT_REMEDY_AUTO_APPROVE is 0

    assert plugin_errors(client, agent, number) == [
        ("plugin", "broken", "customer_tier", "ConnectionError: CRM unreachable"),
        ("plugin", "broken", "sla_targets", "KeyError: 'calendar'"),
        ("plugin", "broken", "remedy_approval", "RuntimeError: credit service down"),
    ]
    events = history_of(client, agent, number)
    sla = next(e for e in events if e["action"] == "sla_applied")
    assert sla["actor"]["name"] == "core" and sla["details"]["policy"] == "default:normal"
    assert next(e for e in events if e["action"] == "remedy_decided")["actor"]["name"] == "core"
    logged = {r.getMessage().splitlines()[0] for r in caplog.records if r.name == "kefu.plugins"}
    assert "plugin broken failed in sla_targets: 'calendar'" in logged


class Backup:
    @hookimpl
    def sla_targets(self, start):
        return {"policy": "backup", "first_response_due": start + timedelta(hours=1), "resolution_due": None}


def test_failing_decider_lets_the_next_plugin_answer(kefu_plugins, client, agent, file_ticket):
    kefu_plugins.register(Backup(), name="backup")
    kefu_plugins.register(BrokenDeciders(), name="broken")  # asked first
    number = file_ticket()["number"]
    ticket = client.get(f"/api/v1/tickets/{number}", headers=agent).json
    assert ticket["sla"]["policy"] == "backup" and ticket["sla"]["resolution_due"] is None
    assert ("plugin", "broken", "sla_targets", "KeyError: 'calendar'") in plugin_errors(client, agent, number)


class BadQueryTier:
    @hookimpl
    def customer_tier(self, customer):
        db.session.execute(sa.text("SELECT tier FROM no_such_table"))


def test_failed_query_in_a_decider_does_not_lose_the_ticket(kefu_plugins, client, agent, file_ticket):
    kefu_plugins.register(Backup(), name="backup")
    kefu_plugins.register(BadQueryTier(), name="bad_query")
    number = file_ticket()["number"]  # asserts 201
    ticket = client.get(f"/api/v1/tickets/{number}", headers=agent).json
    assert ticket["customer_tier"] is None and ticket["sla"]["policy"] == "backup"
    errors = plugin_errors(client, agent, number)
    assert [e[:3] for e in errors] == [("plugin", "bad_query", "customer_tier")]
    assert "no_such_table" in errors[0][3]
    customer = client.get(f"/api/v1/customers/{ticket['customer']['id']}", headers=agent)
    assert customer.status_code == 200 and customer.json["tier"] is None


def _answering(hook, answer):
    class Malformed:
        pass

    def impl(self, ticket):
        return answer

    impl.__name__ = hook
    setattr(Malformed, hook, hookimpl(impl))
    return Malformed()


@pytest.mark.parametrize("overrides", [{"DISABLED_PLUGINS": ["tier_sla"]}])  # the core defaults answer
@pytest.mark.parametrize("hook, answer, error", [
    ("sla_targets", "tomorrow", "ValueError: SlaTargets: must be a dict (SlaTargets), not str"),
    ("sla_targets", {"policy": "naive", "first_response_due": datetime(2030, 1, 1), "resolution_due": None},
     "ValueError: SlaTargets: 'first_response_due' must be"),
    ("sla_targets", {"policy": "text", "first_response_due": None, "resolution_due": "2030-01-01"},
     "ValueError: SlaTargets: 'resolution_due' must be"),
    ("remedy_approval", {"decision": "maybe", "reason": "?"},
     "ValueError: RemedyDecision: 'decision' must be 'approved' or 'needs_approval' or 'refused'"),
    ("remedy_approval", "approved", "ValueError: RemedyDecision: must be a dict"),
])
def test_malformed_decider_answer_counts_as_a_failure(kefu_plugins, client, agent, file_ticket, hook, answer, error):
    kefu_plugins.register(_answering(hook, answer), name="malformed")
    filed = file_ticket(remedy={"text": "refund", "amount": "50.00", "currency": "CNY"})
    ticket = client.get(f"/api/v1/tickets/{filed['number']}", headers=agent).json
    assert ticket["sla"]["policy"] == "default:normal"
    assert ticket["sla"]["first_response_due"] is not None and ticket["sla"]["resolution_due"] is not None
    assert ticket["remedy"]["decision"] == "needs_approval"
    errors = plugin_errors(client, agent, filed["number"])
    assert len(errors) == 1
    assert errors[0][:3] == ("plugin", "malformed", hook) and errors[0][3].startswith(error)


# -- start-up validation ---------------------------------------------------


def test_unknown_hook_name_fails_at_start(entry_point_plugin, app_config):
    entry_point_plugin("kefu_misspelt_plugin", entry_point="misspelt", source="""
        from service import hookimpl

        @hookimpl
        def ticket_create(ticket, actor):  # should be ticket_created
            pass
    """)
    with pytest.raises(PluginStartupError, match="plugin misspelt failed in register: implements ticket_create, "
                                                 "which no spec declares"):
        create_app(app_config)

    # Installed is not enabled: disabled by name, it does not stop the app.
    app = create_app({**app_config, "DISABLED_PLUGINS": ["misspelt"]})
    with app.app_context():
        info = next(i for i in plugins().infos if i.name == "misspelt")
    assert (info.enabled, info.source) == (False, "kefu-misspelt-plugin 0.1")


def test_unknown_hook_argument_fails_at_start(entry_point_plugin, app_config):
    entry_point_plugin("kefu_bad_argument_plugin", entry_point="misspelt", source="""
        from service import hookimpl

        @hookimpl
        def ticket_created(ticket, customer):  # ticket_created has no customer
            pass
    """)
    with pytest.raises(PluginStartupError, match=r"(?s)plugin misspelt failed in register: .*ticket_created.*"
                                                 r"Argument\(s\) \{'customer'\}"):
        create_app(app_config)


# -- read collectors: a failing part is a placeholder, never a 500 ----------


class BrokenParts:
    """Every read collector raises."""

    @hookimpl
    def ticket_panels(self):
        raise RuntimeError("panel service down")

    @hookimpl
    def tracking_panels(self):
        raise RuntimeError("parcel tracker down")

    @hookimpl
    def dashboard_charts(self):
        raise RuntimeError("warehouse down")


class GoodPanel:
    @hookimpl
    def ticket_panels(self, ticket):
        return {"key": "good", "title": "Good panel", "rows": [{"label": "Orders", "value": 2}]}


def test_a_failing_panel_is_a_placeholder_in_the_api_and_the_console(kefu_plugins, client, agent, staff_login,
                                                                   file_ticket):
    kefu_plugins.register(BrokenParts(), name="broken_parts")
    kefu_plugins.register(GoodPanel(), name="good")
    number = file_ticket()["number"]
    shown = client.get(f"/api/v1/tickets/{number}?panels=true", headers=agent)
    assert shown.status_code == 200
    panels = {p["plugin"]: p for p in shown.json["panels"]}
    assert panels["broken_parts"]["failed"] is True
    assert panels["broken_parts"]["title"] == "plugin broken_parts could not show this"
    assert panels["good"]["failed"] is False and panels["good"]["rows"][0]["value"] == 2

    staff_login("agent")
    page = client.get(f"/console/tickets/{number}")
    assert page.status_code == 200
    assert "Plugin broken_parts could not show this." in page.text and "Good panel" in page.text


def test_a_failing_tracking_panel_and_chart_leave_their_pages_standing(kefu_plugins, client, staff_login, file_ticket):
    kefu_plugins.register(BrokenParts(), name="broken_parts")
    filed = file_ticket()
    tracking = client.get(filed["tracking_url"].replace("http://localhost", ""))
    assert tracking.status_code == 200
    assert "Part of this page could not be shown just now." in tracking.text
    assert "broken_parts" not in tracking.text  # no plugin's name in front of customers
    public = client.get(f"/api/v1/public/tickets/{filed['token']}")
    assert public.status_code == 200 and public.json["panels"] == []

    staff_login("supervisor")
    dashboard = client.get("/console/dashboard")
    assert dashboard.status_code == 200 and "Plugin broken_parts could not show this." in dashboard.text


def test_failures_are_counted_on_the_admin_plugins_page(kefu_plugins, client, agent, staff_login, file_ticket):
    kefu_plugins.register(BrokenParts(), name="broken_parts")
    number = file_ticket()["number"]
    for _ in range(3):
        assert client.get(f"/api/v1/tickets/{number}?panels=true", headers=agent).status_code == 200
    staff_login("admin")
    page = client.get("/console/admin/plugins")
    row = re.search(r"<tr><td>broken_parts</td><td><code>ticket_panels</code></td><td>(\d+)</td>.*?</tr>", page.text)
    assert row is not None and row.group(1) == "3", page.text
    assert "RuntimeError: panel service down" in row.group(0)


def test_failing_customer_columns_are_left_out_of_the_read(kefu_plugins, client, agent, file_ticket):
    class BrokenColumns:
        @hookimpl
        def customer_columns(self):
            raise RuntimeError("no such column")

    kefu_plugins.register(BrokenColumns(), name="broken_columns")
    customer_id = client.get(f"/api/v1/tickets/{file_ticket()['number']}", headers=agent).json["customer"]["id"]
    assert client.get(f"/api/v1/customers/{customer_id}", headers=agent).status_code == 200


# -- start-up collectors: a failure names the plugin; kefu refuses to start --


def test_a_plugin_failing_at_start_is_named_and_kefu_plugins_still_works(entry_point_plugin, app_config,
                                                                       monkeypatch):
    entry_point_plugin("kefu_broken_start", entry_point="broken_start", source="""
        from flask import current_app
        from service import hookimpl

        @hookimpl
        def register_blueprints(app):
            # An app context is active: settings and the database can be read here.
            assert current_app.name == app.name
            raise RuntimeError("cannot reach the licence server")
    """)
    with pytest.raises(PluginStartupError) as failed:
        create_app(app_config)
    message = str(failed.value)
    assert "kefu cannot start: broken_start failed" in message
    assert "plugin broken_start failed in register_blueprints: RuntimeError: cannot reach the licence server" in message
    assert "Traceback" in message and "kefu_broken_start.py" in message

    # `kefu plugins` (and --check) build the app leniently and show the failure.
    from click.testing import CliRunner

    from service.cli import main as kefu_cli

    for key, value in {"DATABASE_URL": app_config["DATABASE_URL"], "INSTANCE_PATH": app_config["INSTANCE_PATH"],
                       "SECRET_KEY": "x" * 20}.items():
        monkeypatch.setenv(f"KEFU_{key}", value)
    listed = CliRunner().invoke(kefu_cli, ["plugins"])
    assert listed.exit_code == 1, listed.output
    assert "broken_start\tfailed\tkefu-broken-start 0.1\tkefu_broken_start" in listed.output
    assert "    FAILED register_blueprints: RuntimeError: cannot reach the licence server" in listed.output
    checked = CliRunner().invoke(kefu_cli, ["plugins", "--check"])
    assert checked.exit_code == 1 and "problem(s)" in checked.output
    # Switched off, the rest of kefu starts.
    create_app({**app_config, "DISABLED_PLUGINS": ["broken_start"]})


def test_a_core_read_inside_an_isolated_call_opens_its_savepoint(app):
    # Lists read past the ORM (isolation.core_connection); inside a plugin's
    # isolated call the savepoint must open before that read, as before a
    # session query, so that a failing statement there is rolled back alone.
    from service.hooks.isolation import core_connection, isolated

    with app.app_context():
        db.session.add(Category(code="kept", name="Kept"))
        db.session.flush()
        with pytest.raises(sa.exc.DBAPIError):
            with isolated(db.session):
                assert core_connection(db.session).execute(sa.text("SELECT 1")).scalar() == 1
                assert db.session().in_nested_transaction()
                core_connection(db.session).execute(sa.text("SELECT * FROM no_such_table"))
        # PostgreSQL aborted only the savepoint: the transaction and its row go on.
        assert not db.session().in_nested_transaction()
        assert db.session.scalar(sa.select(Category.code).where(Category.code == "kept")) == "kept"
        db.session.rollback()
