"""``service.sdk``: a change a plugin makes through the SDK behaves exactly as
the same change by a person - version raised, history under the plugin's
name, SLA re-targeted, notifications and events after the commit, 409 on a
stale version - and the reads, jobs and mail helpers do what they say."""
from __future__ import annotations

import glob
from datetime import datetime

import pytest
import sqlalchemy as sa

from service import hookimpl, sdk
from service.extensions import db
from service.jobs.registry import queues
from service.models import OutboxJob

ACTOR = sdk.plugin_actor("acme")


class Listener:
    def __init__(self):
        self.updated, self.events, self.messages = [], [], []

    @hookimpl
    def ticket_updated(self, ticket, changes, actor):
        self.updated.append((ticket.number, changes, actor.type, actor.name))

    @hookimpl
    def event_published(self, event, ticket, data):
        self.events.append((event, ticket.number, data))

    @hookimpl
    def message_added(self, ticket, message, actor):
        self.messages.append((message.internal, message.author_type, message.author_name, actor.name))


@pytest.fixture
def listener(kefu_plugins):
    found = Listener()
    kefu_plugins.register(found, name="listener")
    return found


def _history(client, headers, number):
    return client.get(f"/api/v1/tickets/{number}/history", headers=headers).json


def test_update_ticket_behaves_as_a_persons_edit(app, client, agent, file_ticket, listener):
    number = file_ticket()["number"]
    before = client.get(f"/api/v1/tickets/{number}", headers=agent).json
    ticket = sdk.update_ticket(number, {"priority": "urgent", "tags": ["vip"]}, ACTOR)
    after = client.get(f"/api/v1/tickets/{number}", headers=agent).json
    assert (after["priority"], after["tags"], after["version"]) == ("urgent", ["vip"], before["version"] + 1)
    assert ticket.version == after["version"]
    # The SLA was re-targeted to urgent's times.
    assert after["sla"]["first_response_due"] < before["sla"]["first_response_due"]
    edited = [e for e in _history(client, agent, number) if e["action"] == "updated"][-1]
    assert edited["actor"] == {"type": "plugin", "id": None, "name": "acme"}
    assert edited["details"]["changes"] == {"priority": ["normal", "urgent"], "tags": [[], ["vip"]]}
    assert _history(client, agent, number)[-1]["action"] == "sla_applied"
    assert listener.updated == [(number, {"priority": ["normal", "urgent"], "tags": [[], ["vip"]]}, "plugin", "acme")]
    assert ("ticket.updated", number, {"changes": {"priority": ["normal", "urgent"], "tags": [[], ["vip"]]}}) \
        in listener.events

    with pytest.raises(sdk.StaleVersion):
        sdk.update_ticket(number, {"priority": "low"}, ACTOR, version=before["version"])
    with pytest.raises(sdk.ValidationFailed) as bad:
        sdk.update_ticket(number, {"category": "no_such_code"}, ACTOR)
    assert bad.value.fields == {"category": ["unknown code 'no_such_code'"]}
    assert client.get(f"/api/v1/tickets/{number}", headers=agent).json["priority"] == "urgent"


def test_transition_notes_and_replies(app, client, agent, file_ticket, listener):
    number = file_ticket()["number"]
    ticket, followup = sdk.transition(number, "confirm", ACTOR, department="after_sales")
    assert (ticket.status, followup) == ("confirmed", None)
    step = [e for e in _history(client, agent, number) if e["action"] == "confirm"][0]
    assert step["actor"]["name"] == "acme" and step["details"] == {"department": "after_sales"}
    with pytest.raises(Exception) as illegal:
        sdk.transition(number, "resolve", ACTOR, resolution="x")
    assert type(illegal.value).__name__ == "IllegalTransition"

    note = sdk.add_note(number, "Checked the stock system.", ACTOR)
    reply = sdk.reply(number, "Your parcel leaves today.", ACTOR)
    assert (note.internal, note.author_type, note.author_name) == (True, "plugin", "acme")
    assert (reply.internal, reply.author_type, reply.author_name) == (False, "plugin", "acme")
    assert listener.messages[-2:] == [(True, "plugin", "acme", "acme"), (False, "plugin", "acme", "acme")]
    # The customer is mailed about the public reply, as about a person's.
    notices = db.session.scalars(sa.select(OutboxJob).where(OutboxJob.name == "mail.notice")).all()
    assert any(row.kwargs.get("message_id") == reply.id for row in notices)
    assert not any(row.kwargs.get("message_id") == note.id for row in notices)
    public = [e for e in listener.events if e[0] == "message.added"]
    assert [e[2]["message"]["body"] for e in public] == ["Your parcel leaves today."]
    with pytest.raises(sdk.ValidationFailed):
        sdk.add_note(number, "   ", ACTOR)


def test_record_event_commits_or_vanishes_with_its_unit(app, client, agent, file_ticket):
    number = file_ticket()["number"]
    ticket = sdk.get_ticket(number)
    with pytest.raises(RuntimeError, match="inside a UnitOfWork"):
        sdk.record_event(ticket, ACTOR, "acme_checked", result="ok")
    with sdk.UnitOfWork():
        sdk.record_event(ticket, ACTOR, "acme_checked", result="lost")  # no commit: rolled back
    with sdk.UnitOfWork() as uow:
        sdk.record_event(ticket, ACTOR, "acme_checked", result="kept")
        uow.commit()
    checked = [e for e in _history(client, agent, number) if e["action"] == "acme_checked"]
    assert [(e["actor"]["name"], e["details"]) for e in checked] == [("acme", {"result": "kept"})]


def test_units_nest_and_commit_once(app, client, agent, act, file_ticket):
    filed = file_ticket()
    number = filed["number"]
    act(agent, number, "confirm", department="after_sales")
    act(agent, number, "start")
    act(agent, number, "resolve", resolution="Replaced the drum.")
    ticket = sdk.get_ticket(number)
    with sdk.UnitOfWork() as uow:
        sdk.record_event(ticket, ACTOR, "acme_asked")
        sdk.answer_resolution(ticket, True, None, sdk.Actor.customer(ticket.customer))  # joins, commits nothing
        with db.engine.connect() as conn:  # not yet visible elsewhere
            assert conn.execute(sa.text("SELECT status FROM tickets WHERE id = :i"), {"i": ticket.id}).scalar() \
                == "resolved"
        uow.commit()
    actions = [e["action"] for e in _history(client, agent, number)]
    assert actions[-2:] == ["acme_asked", "close"] or actions[-2:] == ["close", "acme_asked"]
    assert client.get(f"/api/v1/tickets/{number}", headers=agent).json["status"] == "closed"


def test_open_ticket_through_the_sdk(app, client, agent):
    ticket, token = sdk.open_ticket({"contact": {"name": "Wu Lei", "email": "wu@example.test"},
                                     "subject": "Recall notice", "description": "Model X123 recalled.",
                                     "kind": "inquiry", "tags": ["recall"]}, ACTOR, channel="api")
    shown = client.get(f"/api/v1/tickets/{ticket.number}", headers=agent).json
    assert (shown["kind"], shown["tags"], shown["customer"]["name"]) == ("inquiry", ["recall"], "Wu Lei")
    assert _history(client, agent, ticket.number)[0]["actor"]["name"] == "acme"
    assert client.get(f"/api/v1/public/tickets/{token}").status_code == 200


def test_reads(app, client, agent, make_staff, file_ticket):
    number = file_ticket()["number"]
    ticket = sdk.get_ticket(number)
    assert sdk.find_ticket(number) is ticket and sdk.find_ticket("KF-999999") is None
    with pytest.raises(sdk.NotFound):
        sdk.get_ticket("KF-999999")
    assert sdk.get_customer(ticket.customer_id).email == "wang@example.test"
    with pytest.raises(sdk.NotFound):
        sdk.get_customer(987654)
    with pytest.raises(sdk.ValidationFailed) as named:
        sdk.get_customer(987654, field="customer_id")
    assert list(named.value.fields) == ["customer_id"]
    staff, _ = make_staff("agent")
    assert sdk.get_staff(staff.id).email == staff.email
    with pytest.raises(sdk.NotFound):
        sdk.get_staff(987654)
    assert sdk.ticket_messages(ticket) == []


def test_jobs_effects_alerts_and_mail(app, kefu_plugins, jobs, make_staff, file_ticket):
    calls = []

    class Jobs:
        @hookimpl
        def register_jobs(self):
            return [{"name": "acme.ping", "func": "sdk_jobs:ping", "queue": "acme"}]

    kefu_plugins.register(Jobs(), name="acme_jobs")
    import sdk_jobs  # tests/sdk/ is on sys.path while its tests run

    sdk_jobs.CALLS = calls
    number = file_ticket()["number"]
    ticket = sdk.get_ticket(number)
    staff, _ = make_staff("supervisor")
    with sdk.UnitOfWork() as uow:
        sdk.enqueue("acme.ping", dedupe_key="ping:1", ticket_id=ticket.id)
        sdk.enqueue("acme.ping", dedupe_key="ping:1", ticket_id=ticket.id)  # the same job
        sdk.alert_staff(staff.id, ticket, "acme check", "Please look at this ticket.", key="acme:1")
        uow.commit()
    jobs.drain()
    assert calls == [ticket.id]  # once, though enqueued twice and its effect guarded
    assert "acme" in queues(app)  # a queue of the plugin's own, worked like the core's
    mailed = glob.glob(f"{app.config['MAIL_LOG_DIR']}/*.eml")
    assert any(staff.email in open(path, encoding="utf-8").read() for path in mailed)

    # A mail of the plugin's own, composed from a template and sent once.
    with sdk.effect_once("acme:mail:1") as go:
        assert go
        where = sdk.send_mail(notice="test", to=("Wang Fang", "wang@example.test"), lang=sdk.mail_language("zh_CN"),
                              key="acme:mail:1", ticket=ticket, links=sdk.customer_links(ticket))
    assert where.endswith(".eml") and "wang@example.test" in open(where, encoding="utf-8").read()
    with sdk.effect_once("acme:mail:1") as go:
        assert not go
    assert sdk.tracking_url("tok").startswith("http") and "/track/tok" in sdk.tracking_url("tok")
    assert sdk.external_url("web.form").startswith("http")
    assert isinstance(sdk.utcnow(), datetime) and sdk.utcnow().tzinfo is not None


def test_console_pages_of_a_plugin(app, client, staff_login, admin):
    """``console_page``, ``require_console_role`` and ``console_staff``, as the
    builtin plugins' admin pages use them: sign-in for visitors, an HTML 403
    below the role and an HTML 404, in the staff member's language."""
    with app.test_request_context("/console/admin/sla/policy", headers=admin):
        assert sdk.console_staff() is None  # an API token is no console session
    visitor = client.get("/console/admin/webhooks/")
    assert visitor.status_code == 302 and "/console/login" in visitor.headers["Location"]
    staff_login("supervisor", language="zh_CN")
    refused = client.get("/console/admin/webhooks/")
    assert refused.status_code == 403 and refused.mimetype == "text/html" and '<html lang="zh-CN">' in refused.text
    with client.session_transaction() as session:
        session.clear()
    staff_login("admin")
    missing = client.get("/console/admin/webhooks/999999")
    assert missing.status_code == 404 and missing.mimetype == "text/html" and "Not found." in missing.text
