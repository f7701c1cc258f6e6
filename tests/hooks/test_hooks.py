"""One test per hook of service/hookspecs.py, named ``test_hook_<hook name>``.

Each shows the hook called with the documented arguments at the documented
moment, and its result used as documented. tests/test_docs.py checks that
every hook has its test here.
"""
from __future__ import annotations

import importlib
from datetime import datetime, timedelta

import click
import pytest
import sqlalchemy as sa

from service import hookimpl
from service.cli import main as kefu_cli
from service.extensions import db
from service.models import Message, Ticket


def history_of(client, headers, number):
    return client.get(f"/api/v1/tickets/{number}/history", headers=headers).json


def resolved_ticket(client, agent, act, file_ticket, **overrides):
    filed = file_ticket(**overrides)
    act(agent, filed["number"], "confirm", department="after_sales")
    act(agent, filed["number"], "start")
    act(agent, filed["number"], "resolve", resolution="We sent a technician.")
    return filed


def backdate_resolution(number, days=30):
    """Move a ticket's resolution ``days`` back, past the reopen window."""
    db.session.execute(sa.update(Ticket).where(Ticket.number == number)
                       .values(resolved_at=datetime.now().astimezone() - timedelta(days=days)))
    db.session.commit()


def stored_status(number, column=Ticket.status):
    """The ticket's status (or ``column``) as committed, read on a connection of its own."""
    with db.engine.connect() as conn:
        return conn.execute(sa.select(column).where(Ticket.number == number)).scalar_one()


def stored_message_count(number):
    """Committed messages of the ticket, counted on a connection of its own."""
    with db.engine.connect() as conn:
        return conn.execute(sa.select(sa.func.count(Message.id)).join(Ticket, Ticket.id == Message.ticket_id)
                            .where(Ticket.number == number)).scalar_one()


# -- notifications ---------------------------------------------------------


def test_hook_ticket_created(kefu_plugins, client, agent, act, file_ticket):
    class Plugin:
        calls = []

        @hookimpl
        def ticket_created(self, ticket, actor):
            self.calls.append({"number": ticket.number, "status": ticket.status,
                               "stored": stored_status(ticket.number), "email": ticket.customer.email,
                               "due": ticket.first_response_due is not None and ticket.resolution_due is not None,
                               "actor": (actor.type, actor.name),
                               "parent": ticket.parent.number if ticket.parent else None})

    plugin = kefu_plugins.register(Plugin(), name="listener")
    filed = file_ticket(name="Wang Fang")
    assert plugin.calls == [{"number": filed["number"], "status": "new", "stored": "new",
                             "email": "wang@example.test", "due": True, "actor": ("customer", "Wang Fang"),
                             "parent": None}]

    plugin.calls.clear()
    response = client.post("/api/v1/tickets", headers=agent, json={
        "contact": {"name": "Li Lei", "phone": "+86 10 1234 5678"}, "channel": "phone",
        "subject": "Invoice missing", "description": "Please send it again."})
    assert response.status_code == 201
    assert [(c["number"], c["actor"][0]) for c in plugin.calls] == [(response.json["number"], "staff")]

    # A late rejection opens a follow-up: created by the customer who rejected.
    plugin.calls.clear()
    act(agent, filed["number"], "confirm", department="after_sales")
    act(agent, filed["number"], "start")
    act(agent, filed["number"], "resolve", resolution="Delivered.")
    backdate_resolution(filed["number"])
    answer = client.post(f"/api/v1/public/tickets/{filed['token']}/resolution",
                         json={"accepted": False, "reason": "Not delivered at all."})
    assert answer.status_code == 200
    followup = answer.json["followup"]["number"]
    assert [(c["number"], c["status"], c["stored"], c["actor"], c["parent"]) for c in plugin.calls] == [
        (followup, "new", "new", ("customer", "Wang Fang"), filed["number"])]


def test_hook_ticket_transitioned(kefu_plugins, client, agent, act, file_ticket):
    class Plugin:
        calls = []

        @hookimpl
        def ticket_transitioned(self, ticket, action, from_status, to_status, actor, details):
            self.calls.append((action, from_status, to_status, ticket.status, stored_status(ticket.number),
                               actor.type, details))

    plugin = kefu_plugins.register(Plugin(), name="listener")
    filed = file_ticket()
    number, token = filed["number"], filed["token"]
    act(agent, number, "confirm", department="logistics")
    act(agent, number, "start")
    act(agent, number, "wait")
    assert client.post(f"/api/v1/public/tickets/{token}/messages", json={"body": "Here is the photo."}).status_code == 201
    act(agent, number, "resolve", resolution="  Replaced the drum.  ")
    assert plugin.calls == [
        ("confirm", "new", "confirmed", "confirmed", "confirmed", "staff", {"department": "logistics"}),
        ("start", "confirmed", "in_progress", "in_progress", "in_progress", "staff", {}),
        ("wait", "in_progress", "waiting_on_customer", "waiting_on_customer", "waiting_on_customer", "staff", {}),
        ("customer_reply", "waiting_on_customer", "in_progress", "in_progress", "in_progress", "customer", {}),
        ("resolve", "in_progress", "resolved", "resolved", "resolved", "staff", {"resolution": "Replaced the drum."}),
    ]


def test_hook_ticket_updated(kefu_plugins, client, make_staff, file_ticket):
    agent_staff, agent = make_staff("agent")

    class Plugin:
        calls = []

        @hookimpl
        def ticket_updated(self, ticket, changes, actor):
            self.calls.append((ticket.number, ticket.priority, stored_status(ticket.number, Ticket.priority),
                               changes, actor.type, actor.id))

    plugin = kefu_plugins.register(Plugin(), name="listener")
    number = file_ticket()["number"]
    version = client.get(f"/api/v1/tickets/{number}", headers=agent).json["version"]
    response = client.patch(f"/api/v1/tickets/{number}", headers=agent, json={
        "version": version, "priority": "high", "category": "other", "department": "finance",
        "assignee": agent_staff.id})
    assert response.status_code == 200, response.json
    assert plugin.calls == [(number, "high", "high", {"priority": ["normal", "high"], "department": [None, "finance"],
                                                      "assignee": [None, agent_staff.id]}, "staff", agent_staff.id)]

    plugin.calls.clear()
    unchanged = client.patch(f"/api/v1/tickets/{number}", headers=agent,
                             json={"version": response.json["version"], "priority": "high"})
    assert unchanged.status_code == 200
    assert plugin.calls == []  # nothing changed, nothing to tell


def test_hook_message_added(kefu_plugins, client, agent, act, file_ticket):
    class Plugin:
        calls = []

        @hookimpl
        def message_added(self, ticket, message, actor):
            self.calls.append((ticket.number, message.id, message.body, message.internal, actor.type,
                               stored_message_count(ticket.number)))

    plugin = kefu_plugins.register(Plugin(), name="listener")
    filed = file_ticket()
    number, token = filed["number"], filed["token"]
    note = client.post(f"/api/v1/tickets/{number}/messages", headers=agent,
                       json={"body": "Customer is a reseller.", "internal": True})
    reply = client.post(f"/api/v1/tickets/{number}/messages", headers=agent, json={"body": "We are on it."})
    assert note.status_code == reply.status_code == 201
    assert client.post(f"/api/v1/public/tickets/{token}/messages", json={"body": "Thanks!"}).status_code == 201
    # Each time, the message was already committed (counted on another connection).
    assert plugin.calls[:2] == [
        (number, note.json["id"], "Customer is a reseller.", True, "staff", 1),
        (number, reply.json["id"], "We are on it.", False, "staff", 2),
    ]
    assert len(plugin.calls) == 3 and plugin.calls[2][0] == number
    assert plugin.calls[2][1] > reply.json["id"] and plugin.calls[2][2:] == ("Thanks!", False, "customer", 3)


def test_hook_resolution_answered(kefu_plugins, client, agent, act, file_ticket):
    class Plugin:
        calls = []

        @hookimpl
        def resolution_answered(self, ticket, accepted, reason, followup, actor):
            self.calls.append((ticket.number, ticket.status, stored_status(ticket.number), accepted, reason,
                               followup.number if followup else None, actor.type))

    plugin = kefu_plugins.register(Plugin(), name="listener")
    filed = resolved_ticket(client, agent, act, file_ticket)
    number, token = filed["number"], filed["token"]

    rejected = client.post(f"/api/v1/public/tickets/{token}/resolution",
                           json={"accepted": False, "reason": "Still noisy."})
    assert rejected.status_code == 200
    act(agent, number, "resolve", resolution="Replaced the motor.")
    accepted = client.post(f"/api/v1/public/tickets/{token}/resolution", json={"accepted": True})
    assert accepted.status_code == 200
    assert plugin.calls == [
        (number, "in_progress", "in_progress", False, "Still noisy.", None, "customer"),
        (number, "closed", "closed", True, None, None, "customer"),
    ]

    # Rejected after the reopen window: the ticket closes and a follow-up opens.
    plugin.calls.clear()
    late = resolved_ticket(client, agent, act, file_ticket)
    backdate_resolution(late["number"])
    answer = client.post(f"/api/v1/public/tickets/{late['token']}/resolution",
                         json={"accepted": False, "reason": "Broke again."})
    assert answer.status_code == 200
    followup = answer.json["followup"]["number"]
    assert plugin.calls == [(late["number"], "closed", "closed", False, "Broke again.", followup, "customer")]


@pytest.mark.parametrize("overrides", [{"SURVEY_DELAY": 0}])
def test_hook_survey_answered(kefu_plugins, client, agent, act, file_ticket, jobs):
    class Plugin:
        calls = []

        @hookimpl
        def survey_answered(self, ticket, answer, actor):
            self.calls.append((ticket.number, ticket.status, stored_status(ticket.number), answer, actor.type))

    class Broken:
        @hookimpl
        def survey_answered(self, ticket):
            raise RuntimeError("CRM is down")

    plugin = kefu_plugins.register(Plugin(), name="listener")
    kefu_plugins.register(Broken(), name="broken")
    filed = resolved_ticket(client, agent, act, file_ticket)
    jobs.drain(periodic=False)  # the survey plugin delivers the survey
    [panel] = [p for p in client.get(f"/api/v1/public/tickets/{filed['token']}").json["panels"]
               if p["key"] == "satisfaction_survey"]
    token = panel["url"].rsplit("/survey/", 1)[1]
    answered = client.post(f"/api/v1/public/surveys/{token}",
                           json={"solved": False, "rating": 2, "reasons": ["slow"], "comment": "Still noisy."})
    assert answered.status_code == 200
    [(number, status, stored, answer, actor)] = plugin.calls
    assert (number, status, stored, actor) == (filed["number"], "in_progress", "in_progress", "customer")
    answer.pop("answered_at")
    assert answer == {"survey_id": 1, "round": 0, "solved": False, "rating": 2, "effort": None, "nps": None,
                      "reasons": ["slow"], "comment": "Still noisy.", "extra": {}, "outcome": "reopened",
                      "followup": None}
    # A failing plugin loses nothing: the answer and the reopen stand, the error is on the history.
    errors = [e for e in history_of(client, agent, filed["number"]) if e["action"] == "plugin_error"]
    assert [(e["actor"]["name"], e["details"]["hook"]) for e in errors] == [("broken", "survey_answered")]
    # Surveys are single use: a second answer notifies nobody.
    assert client.post(f"/api/v1/public/surveys/{token}", json={"solved": True, "rating": 5}).status_code == 409
    assert len(plugin.calls) == 1


# -- deciders --------------------------------------------------------------


@pytest.mark.parametrize("overrides", [{"DISABLED_PLUGINS": ["tier_sla"]}])  # the core defaults answer
def test_hook_sla_targets(kefu_plugins, client, agent, file_ticket):
    minutes = {"normal": (30, 240), "urgent": (10, 60)}

    class Plugin:
        calls = []

        @hookimpl
        def sla_targets(self, ticket, customer, start):
            self.calls.append((ticket.priority, ticket.kind, customer.email, start))
            if ticket.kind == "inquiry":
                return None  # let the next plugin (here: the core default) decide
            first, resolution = minutes[ticket.priority]
            return {"policy": f"gold:{ticket.priority}", "first_response_due": start + timedelta(minutes=first),
                    "resolution_due": start + timedelta(minutes=resolution)}

    plugin = kefu_plugins.register(Plugin(), name="gold_sla")
    number = file_ticket()["number"]
    ticket = client.get(f"/api/v1/tickets/{number}", headers=agent).json
    created = datetime.fromisoformat(ticket["created_at"])
    assert plugin.calls == [("normal", "complaint", "wang@example.test", created)]
    assert ticket["sla"]["policy"] == "gold:normal"
    assert datetime.fromisoformat(ticket["sla"]["first_response_due"]) == created + timedelta(minutes=30)
    assert datetime.fromisoformat(ticket["sla"]["resolution_due"]) == created + timedelta(minutes=240)
    applied = [e for e in history_of(client, agent, number) if e["action"] == "sla_applied"]
    assert [(e["actor"]["name"], e["details"]["policy"]) for e in applied] == [("gold_sla", "gold:normal")]

    # Re-prioritised: asked again, the clock still starts at the creation.
    plugin.calls.clear()
    patched = client.patch(f"/api/v1/tickets/{number}", headers=agent,
                           json={"version": ticket["version"], "priority": "urgent"})
    assert patched.status_code == 200
    assert plugin.calls == [("urgent", "complaint", "wang@example.test", created)]
    assert patched.json["sla"]["policy"] == "gold:urgent"
    assert datetime.fromisoformat(patched.json["sla"]["resolution_due"]) == created + timedelta(minutes=60)

    # None: the core default answers.
    inquiry = file_ticket(kind="inquiry")["number"]
    assert client.get(f"/api/v1/tickets/{inquiry}", headers=agent).json["sla"]["policy"] == "default:normal"


def test_hook_customer_tier(kefu_plugins, client, agent, file_ticket):
    class Plugin:
        calls = []

        @hookimpl
        def customer_tier(self, customer):
            self.calls.append(customer.email)
            return "A" if customer.email.endswith("@bigcorp.test") else None

    plugin = kefu_plugins.register(Plugin(), name="crm")
    big = file_ticket(email="buyer@bigcorp.test")["number"]
    small = file_ticket(email="someone@example.test")["number"]
    assert plugin.calls == ["buyer@bigcorp.test", "someone@example.test"]

    ticket = client.get(f"/api/v1/tickets/{big}", headers=agent).json
    assert ticket["customer_tier"] == "A"
    decided = [e for e in history_of(client, agent, big) if e["action"] == "tier_decided"]
    assert [(e["actor"]["name"], e["details"]) for e in decided] == [("crm", {"tier": "A"})]
    customer = client.get(f"/api/v1/customers/{ticket['customer']['id']}", headers=agent).json
    assert customer["tier"] == "A"

    # None from every plugin: the core default has no tiers either.
    other = client.get(f"/api/v1/tickets/{small}", headers=agent).json
    assert other["customer_tier"] is None
    assert client.get(f"/api/v1/customers/{other['customer']['id']}", headers=agent).json["tier"] is None
    assert not [e for e in history_of(client, agent, small) if e["action"] == "tier_decided"]


def test_hook_satisfaction_class(kefu_plugins, client, agent, file_ticket):
    class Plugin:
        calls = []

        @hookimpl
        def satisfaction_class(self, customer):
            self.calls.append(customer.email)
            return "loyal" if customer.email.endswith("@fan.test") else None

    filed = file_ticket(email="someone@example.test")
    other_id = client.get(f"/api/v1/tickets/{filed['number']}", headers=agent).json["customer"]["id"]
    # The builtin survey plugin answers from its rules: a customer with a ticket is "ordinary".
    assert client.get(f"/api/v1/customers/{other_id}", headers=agent).json["satisfaction_class"] == "ordinary"

    plugin = kefu_plugins.register(Plugin(), name="crm")
    fan = client.post("/api/v1/customers", headers=agent, json={"name": "Fan", "email": "big@fan.test"})
    assert fan.status_code == 201 and fan.json["satisfaction_class"] == "loyal"
    assert client.get(f"/api/v1/customers/{fan.json['id']}", headers=agent).json["satisfaction_class"] == "loyal"
    # None from this plugin: the next one (the survey plugin) decides.
    assert client.get(f"/api/v1/customers/{other_id}", headers=agent).json["satisfaction_class"] == "ordinary"
    assert plugin.calls == ["big@fan.test", "big@fan.test", "someone@example.test"]


def test_hook_code_label(kefu_plugins, client, staff_login, file_ticket):
    """A plugin names its history action, its detail and itself on the
    console's ticket page; codes nobody names keep their words."""
    from service import sdk

    class Plugin:
        @hookimpl
        def code_label(self, group, code):
            return {("action", "acme_order_linked"): "Order linked", ("plugin", "acme"): "Acme orders",
                    ("order_state", "in_transit"): "On its way"}.get((group, code))

    filed = file_ticket(subject="Where is my order")
    with sdk.UnitOfWork() as uow:
        ticket = sdk.find_ticket(filed["number"])
        sdk.record_event(ticket, sdk.plugin_actor("acme"), "acme_order_linked", order_state="in_transit",
                         carrier_code="fast_lane")
        uow.commit()
    staff_login("agent")
    before = client.get(f"/console/tickets/{filed['number']}").text
    assert "acme order linked" in before and "in_transit" in before  # nobody names them yet

    kefu_plugins.register(Plugin(), name="acme")
    page = client.get(f"/console/tickets/{filed['number']}").text
    assert "Order linked" in page and "On its way" in page and "Acme orders" in page
    assert "in_transit" not in page
    assert "fast_lane" in page  # a value nobody names is shown as recorded


@pytest.mark.parametrize("overrides", [{"DISABLED_PLUGINS": ["satisfaction_survey"]}])
def test_core_default_satisfaction_class(app, client, agent, file_ticket):
    filed = file_ticket()
    customer_id = client.get(f"/api/v1/tickets/{filed['number']}", headers=agent).json["customer"]["id"]
    assert client.get(f"/api/v1/customers/{customer_id}", headers=agent).json["satisfaction_class"] is None


def test_hook_remedy_approval(kefu_plugins, client, agent, file_ticket):
    class Plugin:
        calls = []

        @hookimpl
        def remedy_approval(self, ticket, customer):
            self.calls.append((ticket.remedy_text, ticket.remedy_amount_minor, ticket.remedy_currency,
                               customer.email))
            if ticket.remedy_amount_minor > 100_000:
                return {"decision": "refused", "reason": "above the credit line"}
            return {"decision": "approved", "reason": "good customer"}

    plugin = kefu_plugins.register(Plugin(), name="credit")
    small = file_ticket(remedy={"text": "refund", "amount": "120.00", "currency": "CNY"})["number"]
    large = file_ticket(remedy={"text": "new machine", "amount": "2000.00", "currency": "CNY"})["number"]
    plain = file_ticket()["number"]
    assert plugin.calls == [("refund", 12000, "CNY", "wang@example.test"),
                            ("new machine", 200000, "CNY", "wang@example.test")]  # not asked without a remedy

    assert client.get(f"/api/v1/tickets/{small}", headers=agent).json["remedy"] == {
        "text": "refund", "amount": "120.00", "currency": "CNY", "decision": "approved", "reason": "good customer",
        "approver": None}
    remedy = client.get(f"/api/v1/tickets/{large}", headers=agent).json["remedy"]
    assert (remedy["decision"], remedy["reason"]) == ("refused", "above the credit line")
    decided = [e for e in history_of(client, agent, large) if e["action"] == "remedy_decided"]
    assert [(e["actor"]["name"], e["details"]["decision"]) for e in decided] == [("credit", "refused")]
    assert client.get(f"/api/v1/tickets/{plain}", headers=agent).json["remedy"] is None


def test_hook_credit_source(kefu_plugins, client, make_staff):
    """Asked when a customer is rated, in a worker thread, with a detached
    customer snapshot and the quarter; its score is graded instead of the
    internal one."""
    import threading

    from plugins.credit_check.rating import current_quarter

    class Bureau:
        calls = []

        @hookimpl
        def credit_source(self, customer, quarter):
            self.calls.append((customer.id, customer.external_ref, customer.name, quarter,
                               threading.current_thread().name.startswith("kefu-credit-source")))
            return {"score": 81.5, "source": "acme-bureau"}

    bureau = kefu_plugins.register(Bureau(), name="bureau")
    headers = make_staff("supervisor")[1]
    customer = client.post("/api/v1/customers", headers=headers,
                           json={"kind": "company", "name": "Acme", "external_ref": "K-1"}).json
    rated = client.post(f"/api/v1/customers/{customer['id']}/credit/rate", headers=headers, json={})
    assert rated.status_code == 201, rated.json
    assert (rated.json["grade"], rated.json["score"], rated.json["source"]) == ("AA", 81.5, "acme-bureau")
    assert bureau.calls == [(customer["id"], "K-1", "Acme", current_quarter(), True)]


# -- collectors ------------------------------------------------------------


def test_hook_health_signals(kefu_plugins, app):
    """Collected by each health recompute: the signal's query runs per range
    of customers and its points join the score; a broken query is left out
    (the others still count), and so is a signal that does not check out."""
    from plugins.relationship_health.models import CustomerHealth
    from plugins.relationship_health.recompute import recompute
    from service.models import Customer

    class Invoices:
        @hookimpl
        def health_signals(self):
            return [{"name": "long_name", "label": "Long name", "explanation": "Name length %(value)s",
                     "query": "SELECT id AS customer_id, LENGTH(name) AS value FROM customers "
                              "WHERE id BETWEEN :lo AND :hi",
                     "comparison": ">=", "threshold": 10, "points": 30},
                    {"name": "broken", "label": "Broken", "explanation": "-",
                     "query": "SELECT customer_id, value FROM no_such_table", "comparison": ">=",
                     "threshold": 1, "points": 50},
                    {"name": "bad", "label": "Bad", "explanation": "-", "query": "SELECT 1",
                     "comparison": "<", "threshold": 1, "points": 50}]

    kefu_plugins.register(Invoices(), name="invoices")
    rows = [Customer(name="Bo"), Customer(name="Wilhelmina Long")]
    db.session.add_all(rows)
    db.session.commit()
    result = recompute()
    assert result["failed_signals"] == ["broken"]
    db.session.expire_all()
    short, long_ = (db.session.get(CustomerHealth, r.id) for r in rows)
    assert (short.score, short.signal_values["long_name"]) == (0, 2)
    assert (long_.score, long_.level, long_.signal_points["long_name"]) == (30, "watch", 30)
    assert "bad" not in long_.signal_values


# relationship_health reads the account owner after the commit (its
# ticket_created notification): off, so the count is the opening's alone.
@pytest.mark.parametrize("overrides", [{"DISABLED_PLUGINS": ["relationship_health"]}])
def test_hook_customer_columns(kefu_plugins, client, agent, file_ticket):
    from service.reads.lookup import NOT_LOADED, customer_read, preloaded
    from service.models import Customer

    tickets_of = (sa.select(sa.func.count(Ticket.id)).where(Ticket.customer_id == Customer.id)
                  .scalar_subquery())

    class Plugin:
        seen, purposes = [], set()

        @hookimpl
        def customer_columns(self, purpose):
            self.purposes.add(purpose)
            return {"crm.tickets": tickets_of}

        @hookimpl
        def customer_tier(self, customer):
            count = preloaded(customer, "crm.tickets")
            self.seen.append(count)
            if count is NOT_LOADED:
                return None
            return "regular" if count else "new"

    plugin = kefu_plugins.register(Plugin(), name="crm")
    # Found by e-mail on the public form: not read by id, so nothing preloaded.
    first = file_ticket(email="li.na@example.test")
    assert plugin.seen == [NOT_LOADED]
    customer_id = client.get(f"/api/v1/tickets/{first['number']}", headers=agent).json["customer"]["id"]

    # Opened for a known customer: the value comes with the customer, in the same SELECT.
    statements = []
    listener = lambda *args: statements.append(args[2])  # noqa: E731
    sa.event.listen(db.engine, "before_cursor_execute", listener)
    try:
        opened = client.post("/api/v1/tickets", headers=agent, json={
            "customer_id": customer_id, "subject": "Again", "description": "Still broken."})
    finally:
        sa.event.remove(db.engine, "before_cursor_execute", listener)
    assert opened.status_code == 201 and opened.json["customer_tier"] == "regular"
    assert plugin.seen[-1] == 1
    reads = [s for s in statements if s.lstrip().upper().startswith("SELECT")]
    assert len(reads) == 1 and "FROM customers" in reads[0] and "count(" in reads[0].lower(), reads

    # Showing the customer and the customer list read it the same way.
    assert client.get(f"/api/v1/customers/{customer_id}", headers=agent).json["tier"] == "regular"
    assert plugin.seen[-1] == 2
    listed = client.get("/api/v1/customers?limit=10", headers=agent).json["items"]
    assert {c["id"]: c["tier"] for c in listed}[customer_id] == "regular"
    assert plugin.purposes == {"ticket", "show"}  # asked once per purpose, each read kept apart

    # Values belong to the transaction they were read in.
    customer = db.session.get(Customer, customer_id)
    assert preloaded(customer, "crm.tickets") is NOT_LOADED

    # A name given twice is a plugin error, raised at the first read.
    class Clash:
        @hookimpl
        def customer_columns(self, purpose):
            return {"crm.tickets": tickets_of}

    kefu_plugins.register(Clash(), name="clash")
    with pytest.raises(ValueError, match="crm.tickets"):
        customer_read("show")


def test_hook_register_blueprints(entry_point_plugin, app_config, build_app):
    entry_point_plugin("kefu_hooktest_pages", """
        from flask import Blueprint, jsonify

        from service import hookimpl
        from service.usecases.auth import current_staff, require_role

        seen = []


        @hookimpl
        def register_blueprints(app):
            seen.append((app, sorted(app.blueprints)))
            bp = Blueprint("hooktest_pages", __name__, url_prefix="/hooktest")

            @bp.get("/ping")
            def ping():
                return jsonify(pong=True)

            @bp.get("/staff-only")
            @require_role("supervisor")
            def staff_only():
                return jsonify(name=current_staff().name)

            return [bp]
    """)
    with build_app(app_config) as app:
        from service.usecases.staff import create_staff

        module = importlib.import_module("kefu_hooktest_pages")
        assert len(module.seen) == 1
        called_with, blueprints_then = module.seen[0]
        assert called_with is app
        assert {"tickets", "public", "customers", "reference"} <= set(blueprints_then)  # after the core's
        assert "hooktest_pages" in app.blueprints

        client = app.test_client()
        assert client.get("/hooktest/ping").json == {"pong": True}
        _, agent = create_staff("agent@kefu.test", "Agent", "agent")
        _, supervisor = create_staff("boss@kefu.test", "Boss", "supervisor")
        assert client.get("/hooktest/staff-only").status_code == 401
        assert client.get("/hooktest/staff-only", headers={"Authorization": f"Bearer {agent}"}).status_code == 403
        answer = client.get("/hooktest/staff-only", headers={"Authorization": f"Bearer {supervisor}"})
        assert answer.status_code == 200 and answer.json == {"name": "Boss"}


def test_hook_register_jobs(app, kefu_plugins):
    class Autoclose:
        @hookimpl
        def register_jobs(self, app):
            assert app is not None
            return [{"name": "autoclose", "func": "service.usecases.tickets:close_stale_resolved", "queue": "default",
                     "interval": 3600}]

    class Digest:
        @hookimpl
        def register_jobs(self):
            return [{"name": "digest", "func": "kefu_digest.jobs:send_digest", "queue": "mail", "interval": None}]

    class Nothing:
        @hookimpl
        def register_jobs(self, app):
            return None

    seen = []

    class Recorder:
        @hookimpl
        def register_jobs(self, app):
            seen.append(app)

    kefu_plugins.register(Autoclose(), name="autoclose")
    kefu_plugins.register(Digest(), name="digest")
    kefu_plugins.register(Nothing(), name="nothing")
    kefu_plugins.register(Recorder(), name="recorder")
    from service.jobs import registry as job_api

    app.extensions.pop("kefu_jobs", None)
    specs = job_api.registry(app)
    assert seen == [app]
    assert {"autoclose", "digest"} <= set(specs)
    autoclose = specs["autoclose"]
    assert (autoclose.queue, autoclose.interval, autoclose.source) == ("default", 3600, "autoclose")
    assert specs["digest"].source == "digest" and specs["digest"] not in job_api.periodic(app)
    assert autoclose in job_api.periodic(app)
    assert autoclose.callable()() == []  # runnable as declared


def test_hook_register_cli(entry_point_plugin, app_config, build_app):
    entry_point_plugin("kefu_hooktest_cli", """
        import click
        from flask import current_app
        from flask.cli import with_appcontext

        from service import hookimpl

        seen = []


        @hookimpl
        def register_cli(cli):
            seen.append(cli)

            @click.command("hooktest-prefix")
            @with_appcontext
            def prefix():
                click.echo(current_app.config["TICKET_PREFIX"])

            @click.command("hooktest-added")
            def added():
                click.echo("added directly")

            cli.add_command(added)
            return [prefix]
    """)
    with build_app({**app_config, "TICKET_PREFIX": "HT"}) as app:
        module = importlib.import_module("kefu_hooktest_cli")
        assert module.seen == [app.cli]
        assert isinstance(module.seen[0], click.Group)
        runner = app.test_cli_runner()
        returned = runner.invoke(kefu_cli, ["hooktest-prefix"])
        assert returned.exit_code == 0, returned.output
        assert returned.output == "HT\n"
        added = runner.invoke(kefu_cli, ["hooktest-added"])
        assert (added.exit_code, added.output) == (0, "added directly\n")
        listed = runner.invoke(kefu_cli, ["--help"]).output
        assert "hooktest-prefix" in listed and "hooktest-added" in listed


def test_hook_demo_data(app, kefu_plugins):
    """An implementation taking ``demo`` is called at both stages (customers
    committed and no ticket yet; then after the core's tickets), one taking
    only ``app`` once, after the tickets; their lines are printed."""
    from service.models import Customer, Ticket

    seen = []

    def counts():
        return (db.session.scalar(sa.select(sa.func.count()).select_from(Customer)),
                db.session.scalar(sa.select(sa.func.count()).select_from(Ticket)))

    class Staged:
        @hookimpl
        def demo_data(self, app, demo):
            seen.append(("staged", demo.size, demo.stage, counts(), demo.start == demo.end,
                         demo.random("x").random() == demo.random("x").random()))
            if demo.stage == "history":
                # The core demo is committed and visible to the plugin.
                db.session.add(Customer(kind="person", name="Plugin demo customer", external_ref="P-DEMO"))
                db.session.commit()
                return ["hooktest: one more customer"]
            return None

    class Plain:
        @hookimpl
        def demo_data(self, app):
            seen.append(("plain", counts()))
            return "hooktest: plain part"

    kefu_plugins.register(Staged(), name="hooktest_demo")
    kefu_plugins.register(Plain(), name="hooktest_plain_demo")
    out = app.test_cli_runner().invoke(kefu_cli, ["demo", "--small"])
    assert out.exit_code == 0, out.output
    staged = [entry for entry in seen if entry[0] == "staged"]
    [(_, (_customers, tickets))] = [entry for entry in seen if entry[0] == "plain"]  # once, after the tickets
    assert tickets > 0
    assert staged == [("staged", "small", "customers", (8, 0), True, True),
                      ("staged", "small", "history", (8, tickets), True, True)]
    assert "  hooktest: one more customer\n" in out.output and "  hooktest: plain part\n" in out.output
    with app.app_context():
        assert db.session.scalar(sa.select(Customer.name).where(Customer.external_ref == "P-DEMO"))


def test_demo_data_demo_at_moves_the_clock(app, kefu_plugins):
    """``demo.at(when)`` is the time every use case reads inside it, and the
    real time is back after it."""
    from datetime import datetime, timezone

    from service.models.base import utcnow

    when = datetime(2026, 1, 5, 9, 30, tzinfo=timezone.utc)
    seen = []

    class Timed:
        @hookimpl
        def demo_data(self, app, demo):
            with demo.at(when):
                seen.append(utcnow())
            seen.append(utcnow())

    kefu_plugins.register(Timed(), name="hooktest_timed_demo")
    out = app.test_cli_runner().invoke(kefu_cli, ["demo", "--small"])
    assert out.exit_code == 0, out.output
    assert seen[0] == when and seen[2] == when
    assert abs((seen[1] - datetime.now(timezone.utc)).total_seconds()) < 300


def test_hook_ticket_panels(kefu_plugins, client, make_staff, file_ticket):
    agent_staff, agent = make_staff("agent")
    _, supervisor = make_staff("supervisor")

    class Orders:
        calls = []

        @hookimpl
        def ticket_panels(self, ticket, staff):
            self.calls.append((ticket.number, staff.id))
            panels = [{"key": "orders", "title": "Orders", "data": {"count": 2, "ticket": ticket.number}}]
            if staff.has_role("supervisor"):
                panels.append({"key": "margin", "title": "Margin", "data": "12%"})
            return panels

    class Single:
        @hookimpl
        def ticket_panels(self, ticket):
            return {"key": "single", "title": "One panel", "data": None}

    class Silent:
        @hookimpl
        def ticket_panels(self, ticket, staff):
            return None

    orders = kefu_plugins.register(Orders(), name="orders")
    kefu_plugins.register(Single(), name="single")
    kefu_plugins.register(Silent(), name="silent")
    number = file_ticket()["number"]
    assert orders.calls == []  # only asked when a ticket is shown with its panels
    plain = client.get(f"/api/v1/tickets/{number}", headers=agent).json
    assert "panels" not in plain and orders.calls == []  # the API gathers panels when asked

    shown = client.get(f"/api/v1/tickets/{number}?panels=true", headers=agent).json
    assert orders.calls == [(number, agent_staff.id)]
    assert sorted(shown["panels"], key=lambda p: p["key"]) == [
        {"key": "orders", "plugin": "orders", "title": "Orders", "rows": [], "data": {"count": 2, "ticket": number},
         "failed": False},
        {"key": "single", "plugin": "single", "title": "One panel", "rows": [], "data": None, "failed": False},
    ]
    as_supervisor = client.get(f"/api/v1/tickets/{number}?panels=true", headers=supervisor).json
    assert sorted(p["key"] for p in as_supervisor["panels"]) == ["margin", "orders", "single"]


def _sla_sweep_calls(kefu_plugins, client, file_ticket, hook_name):
    """Open a ticket under a 10/40-minute round-the-clock policy and sweep far
    past both deadlines; return the calls a plugin got for ``hook_name``."""
    from datetime import timedelta

    from plugins.tier_sla.models import TicketSla
    from plugins.tier_sla.sweep import sweep
    from service.models import Ticket
    from service.usecases.staff import create_staff

    _, token = create_staff("sla-admin@kefu.test", "Admin", "admin")
    fast = {p: {"first_response": 10, "resolution": 40} for p in ("urgent", "high", "normal", "low")}
    answer = client.put("/api/v1/sla/policy", headers={"Authorization": f"Bearer {token}"}, json={
        "data": {"targets": {"small": fast}, "fallback_tier": "small", "default_calendar": "24x7",
                 "tier_calendars": {}}})
    assert answer.status_code == 201
    calls = []

    class Listener:
        @hookimpl
        def sla_warning(self, ticket, target, due, step):
            calls.append(("sla_warning", ticket.number, target, step, due))

        @hookimpl
        def sla_breached(self, ticket, target, due, step):
            calls.append(("sla_breached", ticket.number, target, step, due))

    kefu_plugins.register(Listener(), name="listener")
    number = file_ticket()["number"]
    ticket = db.session.scalar(sa.select(Ticket).where(Ticket.number == number))
    sweep(now=ticket.created_at + timedelta(hours=2))  # starts the clock, fires every step due
    clock = db.session.get(TicketSla, ticket.id)
    sweep(now=clock.started_at + timedelta(hours=3))  # nothing fires twice
    return number, clock.started_at, [c for c in calls if c[0] == hook_name]


def test_hook_sla_warning(kefu_plugins, client, file_ticket):
    from datetime import timedelta

    number, start, calls = _sla_sweep_calls(kefu_plugins, client, file_ticket, "sla_warning")
    assert [(c[1], c[2], c[3]) for c in calls] == [(number, "first_response", "warning"),
                                                   (number, "resolution", "warning")]
    assert calls[0][4] == start + timedelta(minutes=10) and calls[1][4] == start + timedelta(minutes=40)


def test_hook_sla_breached(kefu_plugins, client, file_ticket):
    number, _start, calls = _sla_sweep_calls(kefu_plugins, client, file_ticket, "sla_breached")
    assert [(c[2], c[3]) for c in calls] == [("first_response", "breach"), ("first_response", "takeover"),
                                             ("resolution", "breach"), ("resolution", "takeover")]


def test_hook_tracking_panels(kefu_plugins, client, agent, file_ticket):
    class Parcel:
        calls = []

        @hookimpl
        def tracking_panels(self, ticket):
            self.calls.append(ticket.number)
            return {"key": "parcel", "title": "Your parcel", "text": "Sent <today>",
                    "url": "https://parcel.example/1", "url_label": "Follow it"}

    class Silent:
        @hookimpl
        def tracking_panels(self, ticket):
            return None

    parcel = kefu_plugins.register(Parcel(), name="parcel")
    kefu_plugins.register(Silent(), name="silent")
    filed = file_ticket()
    shown = client.get(f"/api/v1/public/tickets/{filed['token']}").json
    assert parcel.calls == [filed["number"]]
    assert shown["panels"] == [{"key": "parcel", "title": "Your parcel", "text": "Sent <today>",
                                "url": "https://parcel.example/1", "url_label": "Follow it"}]
    # Staff views of the ticket do not ask for customer panels.
    assert client.get(f"/api/v1/tickets/{filed['number']}", headers=agent).status_code == 200
    assert parcel.calls == [filed["number"]]


def test_hook_dashboard_charts(kefu_plugins, client, make_staff, file_ticket):
    import re

    def sign_in(client, make_staff, role):
        from service.usecases.auth import hash_password

        staff, _headers = make_staff(role)
        staff.password_hash = hash_password("dashboard-password")
        db.session.commit()
        client.delete_cookie("session")  # a new sign-in, not the previous staff member's session
        page = client.get("/console/login").text
        token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
        response = client.post("/console/login", data={"email": staff.email, "password": "dashboard-password",
                                                        "csrf_token": token})
        assert response.status_code == 302

    class Returns:
        calls, periods = [], []

        @hookimpl
        def dashboard_charts(self, staff, period):
            self.calls.append(staff.role)
            self.periods.append((period.start.isoformat(), period.end.isoformat()))
            charts = [{"key": "returns", "title": "Returns", "kind": "line", "labels": ["W1", "W2"],
                       "series": [{"name": "returns", "values": [4, 7]}], "unit": None,
                       "links": ["/console/queue/all?kind=complaint", "https://elsewhere.example/"],
                       "label_title": "Week", "value_title": "Returns"}]
            if staff.has_role("admin"):
                charts.append({"key": "margin", "title": "Margin", "kind": "bar", "labels": ["A"],
                               "series": [{"name": "margin", "values": [12.5]}], "unit": "%"})
            return charts

    class Silent:  # written before ``period``: an implementation takes any subset of the arguments
        @hookimpl
        def dashboard_charts(self):
            return None

    returns = kefu_plugins.register(Returns(), name="returns")
    kefu_plugins.register(Silent(), name="silent")
    file_ticket()
    assert returns.calls == []  # only asked when the dashboard is shown
    sign_in(client, make_staff, "supervisor")
    page = client.get("/console/dashboard?from=2026-11-02&to=2026-11-29").text
    assert returns.calls == ["supervisor"] and returns.periods == [("2026-11-02", "2026-11-29")]
    keys = re.findall(r'id="chart-(\w+)"', page)
    assert "returns" in keys and "margin" not in keys
    # Links on this site are kept (the bar and the row header), others dropped.
    assert re.search(r'<th scope="row"><a href="/console/queue/all\?kind=complaint">W1</a></th><td>4</td>', page)
    assert re.search(r'<th scope="row">W2</th><td>7</td>', page) and "elsewhere.example" not in page
    assert '<th scope="col">Week</th>' in page
    sign_in(client, make_staff, "admin")
    page = client.get("/console/dashboard").text
    assert {"returns", "margin"} <= set(re.findall(r'id="chart-(\w+)"', page))
    assert re.search(r'<th scope="row">A</th><td>12.5 %</td>', page)
    # Agents do not see the dashboard, so the hook is not asked for them.
    sign_in(client, make_staff, "agent")
    assert client.get("/console/dashboard").status_code == 403
    assert returns.calls == ["supervisor", "admin"]


def test_hook_dashboard_kpis(kefu_plugins, client, staff_login, kefu_clock):
    import re

    class Returns:
        periods = []

        @hookimpl
        def dashboard_kpis(self, staff, period):
            self.periods.append((period.start, period.end, period.previous.start, period.previous.end))
            return [{"key": "returns", "label": "Returns <weekly>", "value": 12, "previous": 20, "unit": None,
                     "better": "down"},
                    {"key": "broken", "label": "Broken", "value": "many", "previous": None}]

    class Failing:
        @hookimpl
        def dashboard_kpis(self):
            raise RuntimeError("no figures today")

    returns = kefu_plugins.register(Returns(), name="returns")
    kefu_plugins.register(Failing(), name="failing")
    kefu_clock.move_to("2026-12-02T10:00:00", tick=False)
    staff_login("supervisor")
    page = client.get("/console/dashboard?from=2026-11-02&to=2026-11-29").text
    from datetime import date

    assert returns.periods == [(date(2026, 11, 2), date(2026, 11, 29), date(2026, 10, 5), date(2026, 11, 1))]
    tile = page[page.index('id="kpi-returns"'):]
    tile = tile[:tile.index("</li>")]
    assert "Returns &lt;weekly&gt;" in tile and '<span class="tile-value">12</span>' in tile
    assert "Previous period: 20" in tile and re.search(r'class="tile-change better">Change: -8 \(better\)', tile)
    # The malformed tile and the failing plugin are left out; the page still shows.
    assert 'id="kpi-broken"' not in page and "no figures today" not in page
    assert 'id="kpi-open"' in page


def test_hook_report_columns(kefu_plugins, client, staff_login, kefu_clock, make_staff):
    import re

    agent, _headers = make_staff("agent", department="logistics")

    class Returns:
        asked = []

        @hookimpl
        def report_columns(self, staff, period, by):
            self.asked.append((by, period.start.isoformat()))
            values = {str(agent.id): 3, "": 1} if by == "agent" else {str(agent.department_id): 4, "999999": 9}
            return {"key": "returns", "label": "Returns", "unit": "items", "values": values}

    returns = kefu_plugins.register(Returns(), name="returns")
    kefu_clock.move_to("2026-12-02T10:00:00", tick=False)
    staff_login("supervisor")
    page = client.get("/console/dashboard?from=2026-11-02&to=2026-11-29").text
    assert sorted(returns.asked) == [("agent", "2026-11-02"), ("department", "2026-11-02")]
    agents = page[page.index('id="report-agents"'):page.index('id="report-departments"')]
    assert '<th scope="col">Returns (items)</th>' in agents
    # Groups only a plugin knows are listed too (nothing resolved: handled 0).
    assert re.search(rf'<th scope="row">{agent.name}</th><td>0</td><td>-</td>(<td>[^<]*</td>)*<td>3</td>', agents)
    assert re.search(r'<th scope="row">Nobody assigned</th><td>0</td><td>-</td>(<td>[^<]*</td>)*<td>1</td>', agents)
    departments = page[page.index('id="report-departments"'):]
    assert re.search(r'<th scope="row">Logistics</th><td>0</td><td>-</td>(<td>[^<]*</td>)*<td>4</td>', departments)
    assert ">9<" not in departments  # a key that is no department is left out
