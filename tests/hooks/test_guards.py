"""Guards (``guard_ticket_change``): asked before every workflow step and field
change commits, by every path; a refusal is a 409 with the plugin's code, shown
on the console's page and recorded on the ticket's history."""
from __future__ import annotations

import html
import logging
import re
from datetime import timedelta

import pytest
import sqlalchemy as sa
from webpages import csrf_of

from service import hookimpl, sdk
from service.extensions import db
from service.models import Ticket
from service.models.base import utcnow
from service.usecases.tickets import close_stale_resolved


class NoResolveWithoutReply:
    """Refuses to resolve a ticket that has no public reply yet; remembers what it was asked."""

    def __init__(self):
        self.asked = []

    @hookimpl
    def guard_ticket_change(self, ticket, change, actor):
        self.asked.append((ticket.number, ticket.status, change.kind, change.action, change.from_status,
                           change.to_status, dict(change.fields), dict(change.details), actor.type))
        if change.action == "resolve":
            replies = [m for m in sdk.ticket_messages(ticket, include_internal=False) if m.author_type != "customer"]
            if not replies:
                return {"code": "no_public_reply", "message": "Reply to the customer before resolving."}
        return None


def stored(number, column=Ticket.status):
    with db.engine.connect() as conn:
        return conn.execute(sa.select(column).where(Ticket.number == number)).scalar_one()


def history(client, headers, number):
    return client.get(f"/api/v1/tickets/{number}/history", headers=headers).json


def in_progress(act, agent, file_ticket):
    number = file_ticket()["number"]
    act(agent, number, "confirm", department="after_sales")
    act(agent, number, "start")
    return number


def test_hook_guard_ticket_change(kefu_plugins, client, agent, act, file_ticket):
    guard = NoResolveWithoutReply()
    kefu_plugins.register(guard, name="reply_first")
    number = in_progress(act, agent, file_ticket)
    version = stored(number, Ticket.version)

    refused = client.post(f"/api/v1/tickets/{number}/transitions", headers=agent,
                          json={"action": "resolve", "version": version, "resolution": "Fixed."})
    assert refused.status_code == 409
    assert refused.json["error"]["code"] == "no_public_reply"
    assert refused.json["error"]["message"] == "Reply to the customer before resolving."
    assert refused.json["error"]["plugin"] == "reply_first"
    # Nothing was written but the refusal: same status and version.
    assert stored(number) == "in_progress" and stored(number, Ticket.version) == version
    # The guard saw the ticket before the change, and the change itself.
    assert guard.asked[-1] == (number, "in_progress", "transition", "resolve", "in_progress", "resolved", {},
                               {"resolution": "Fixed."}, "staff")
    event = history(client, agent, number)[-1]
    assert event["action"] == "change_refused"
    assert event["actor"] == {"type": "plugin", "id": None, "name": "reply_first"}
    assert event["details"]["code"] == "no_public_reply" and event["details"]["action"] == "resolve"
    assert event["details"]["tried_by"]["type"] == "staff"

    # A public reply, and the same step goes through.
    assert client.post(f"/api/v1/tickets/{number}/messages", headers=agent,
                       json={"body": "We are sending a technician."}).status_code == 201
    done = client.post(f"/api/v1/tickets/{number}/transitions", headers=agent,
                       json={"action": "resolve", "version": stored(number, Ticket.version), "resolution": "Fixed."})
    assert done.status_code == 200 and done.json["status"] == "resolved"


def test_guards_are_asked_for_field_changes(kefu_plugins, client, agent, file_ticket):
    class NoUrgentByHand:
        @hookimpl
        def guard_ticket_change(self, change, actor):
            if change.kind == "update" and change.fields.get("priority", [None, None])[1] == "urgent":
                return {"code": "urgent_by_rule_only", "message": "Only the VIP rule makes tickets urgent."}

    kefu_plugins.register(NoUrgentByHand(), name="rules")
    number = file_ticket()["number"]
    version = stored(number, Ticket.version)
    refused = client.patch(f"/api/v1/tickets/{number}", headers=agent, json={"version": version, "priority": "urgent"})
    assert refused.status_code == 409 and refused.json["error"]["code"] == "urgent_by_rule_only"
    assert stored(number, Ticket.priority) == "normal"
    fine = client.patch(f"/api/v1/tickets/{number}", headers=agent, json={"version": version, "priority": "high"})
    assert fine.status_code == 200 and fine.json["priority"] == "high"


def test_the_console_shows_the_refusal_and_changes_nothing(kefu_plugins, client, staff_login, act, agent, file_ticket):
    kefu_plugins.register(NoResolveWithoutReply(), name="reply_first")
    number = in_progress(act, agent, file_ticket)
    staff_login("agent")
    page = client.get(f"/console/tickets/{number}")
    version = re.search(r'name="version" value="(\d+)"', page.text).group(1)
    response = client.post(f"/console/tickets/{number}/transition", data={
        "action": "resolve", "version": version, "resolution": "Fixed.", "csrf_token": csrf_of(page.text)})
    # The page itself again (409: the plugin refused the step), the reason said and the text kept.
    assert response.status_code == 409
    text = html.unescape(response.text)
    assert "Reply to the customer before resolving." in text and ">Fixed.</textarea>" in text
    assert stored(number) == "in_progress"


def test_every_path_is_guarded(kefu_plugins, client, agent, act, file_ticket):
    """The customer's answer on the public API, the auto-close job and a
    plugin's write through the SDK meet the same guard."""

    class NoClosing:
        @hookimpl
        def guard_ticket_change(self, change):
            if change.action == "close":
                return {"code": "audit_pending", "message": "An audit must look at this ticket first."}

    kefu_plugins.register(NoClosing(), name="audit")
    filed = file_ticket()
    number = filed["number"]
    act(agent, number, "confirm", department="after_sales")
    act(agent, number, "start")
    act(agent, number, "resolve", resolution="Replaced the drum.")

    accepted = client.post(f"/api/v1/public/tickets/{filed['token']}/resolution", json={"accepted": True})
    assert accepted.status_code == 409 and accepted.json["error"]["code"] == "audit_pending"

    db.session.execute(sa.update(Ticket).where(Ticket.number == number)
                       .values(resolved_at=utcnow() - timedelta(days=30)))
    db.session.commit()
    assert close_stale_resolved() == []  # refused, skipped, tried again next run

    with pytest.raises(sdk.Refused) as refused:
        sdk.transition(number, "close", sdk.plugin_actor("closer"))
    assert refused.value.code == "audit_pending"
    assert stored(number) == "resolved"
    refusals = [e for e in history(client, agent, number) if e["action"] == "change_refused"]
    assert [e["details"]["tried_by"]["type"] for e in refusals] == ["customer", "system", "plugin"]


def test_a_guard_that_raises_is_no_objection_and_is_recorded(kefu_plugins, client, agent, act, file_ticket):
    class Broken:
        @hookimpl
        def guard_ticket_change(self):
            raise RuntimeError("rules service down")

    kefu_plugins.register(Broken(), name="broken_guard")
    number = file_ticket()["number"]
    assert act(agent, number, "confirm", department="after_sales")["status"] == "confirmed"
    errors = [e for e in history(client, agent, number) if e["action"] == "plugin_error"]
    assert [(e["actor"]["name"], e["details"]["hook"], e["details"]["error"]) for e in errors] == [
        ("broken_guard", "guard_ticket_change", "RuntimeError: rules service down")]


@pytest.mark.parametrize("overrides", [{"GUARDS_FAIL_CLOSED": ["strict_guard"]}])
def test_a_fail_closed_guard_that_raises_refuses(kefu_plugins, client, agent, file_ticket):
    class Broken:
        @hookimpl
        def guard_ticket_change(self):
            raise RuntimeError("rules service down")

    kefu_plugins.register(Broken(), name="strict_guard")
    number = file_ticket()["number"]
    response = client.post(f"/api/v1/tickets/{number}/transitions", headers=agent,
                           json={"action": "confirm", "version": 1, "department": "after_sales"})
    assert response.status_code == 409
    assert response.json["error"]["code"] == "plugin_unavailable"
    assert response.json["error"]["plugin"] == "strict_guard"
    assert stored(number) == "new"


@pytest.mark.parametrize("answer", [
    "no", {"code": "Bad Code", "message": "x"}, {"code": "ok"}, {"code": "ok", "message": "x", "extra": 1}])
def test_a_malformed_refusal_counts_as_a_failure(kefu_plugins, client, agent, file_ticket, answer):
    class Malformed:
        @hookimpl
        def guard_ticket_change(self):
            return answer

    kefu_plugins.register(Malformed(), name="malformed")
    number = file_ticket()["number"]
    response = client.post(f"/api/v1/tickets/{number}/transitions", headers=agent,
                           json={"action": "confirm", "version": 1, "department": "after_sales"})
    assert response.status_code == 200  # no objection
    assert [e["details"]["hook"] for e in history(client, agent, number) if e["action"] == "plugin_error"] == [
        "guard_ticket_change"]


@pytest.mark.parametrize("overrides", [{"TRACE_HOOKS": True}])
def test_tracing_shows_guards_and_openers_too(kefu_plugins, client, agent, file_ticket, caplog):
    class Both:
        @hookimpl
        def guard_ticket_change(self):
            return {"code": "frozen", "message": "Frozen for the audit."}

        @hookimpl
        def opening_ticket(self):
            return {"changes": {"priority": "high"}}

    kefu_plugins.register(Both(), name="both")
    with caplog.at_level(logging.DEBUG, logger="kefu.plugins"):
        number = file_ticket()["number"]
        client.post(f"/api/v1/tickets/{number}/transitions", headers=agent,
                    json={"action": "confirm", "version": 1, "department": "after_sales"})
    logged = [r.getMessage() for r in caplog.records if r.name == "kefu.plugins"]
    assert "open opening_ticket <- both: {'changes': {'priority': 'high'}}" in logged
    assert "guard guard_ticket_change <- both: {'code': 'frozen', 'message': 'Frozen for the audit.'}" in logged
