"""Canned replies through /api/v1/macros (issue 16, item 6): who may save
which, placeholders checked at save time, optimistic locking, and applying a
macro to a ticket - preview, send with actions, and nothing sent when an
action is refused."""
from __future__ import annotations

import re

import pytest

from service import hookimpl
from service.extensions import db
from service.models import Message, Ticket


def _messages(number):
    ticket = db.session.scalar(db.select(Ticket).where(Ticket.number == number))
    return db.session.scalars(db.select(Message).where(Message.ticket_id == ticket.id, Message.internal.is_(False),
                                                       Message.author_type == "staff")).all()


def _save(client, headers, expect=201, **body):
    response = client.post("/api/v1/macros", headers=headers, json={"name": "Thanks", "body_en": "Hello", **body})
    assert response.status_code == expect, response.json
    return response.json


def _in_progress(act, agent, file_ticket, **fields):
    number = file_ticket(**fields)["number"]
    act(agent, number, "confirm", department="after_sales")
    act(agent, number, "start")
    return number


def test_crud_of_a_personal_macro(client, make_staff):
    _staff, agent = make_staff("agent")
    _other, other = make_staff("agent")
    made = _save(client, agent, name="Ask for a photo", body_en="Hello {customer_name}, a photo please.",
                 body_zh="{customer_name}您好，请发一张照片。", set_status="wait")
    assert made["scope"] == "personal" and made["owner"]["name"] == _staff.name and made["version"] == 1
    assert made["can_edit"] is True
    assert [m["name"] for m in client.get("/api/v1/macros", headers=agent).json] == ["Ask for a photo"]
    # Personal means personal: another agent neither lists nor reads it.
    assert client.get("/api/v1/macros", headers=other).json == []
    assert client.get(f"/api/v1/macros/{made['id']}", headers=other).status_code == 404
    changed = client.patch(f"/api/v1/macros/{made['id']}", headers=agent,
                           json={"version": 1, "name": "Photo please", "set_priority": "high"})
    assert changed.status_code == 200, changed.json
    assert changed.json["name"] == "Photo please" and changed.json["set_priority"] == "high"
    assert changed.json["set_status"] == "wait" and changed.json["version"] == 2
    assert client.delete(f"/api/v1/macros/{made['id']}", headers=other).status_code == 404
    assert client.delete(f"/api/v1/macros/{made['id']}", headers=agent).status_code == 204
    assert client.get(f"/api/v1/macros/{made['id']}", headers=agent).status_code == 404


def test_a_macro_has_a_name_in_each_console_language(client, supervisor, staff_login, file_ticket):
    made = _save(client, supervisor, name="Ask for a photo", name_zh="请客户提供照片", scope="all")
    assert made["name_zh"] == "请客户提供照片"
    too_long = client.patch(f"/api/v1/macros/{made['id']}", headers=supervisor,
                            json={"version": 1, "name_zh": "长" * 121})
    assert too_long.status_code == 422 and "name_zh" in too_long.json["error"]["fields"]
    # The Chinese console lists and offers it by its Chinese name, the English one by its name.
    me = staff_login("agent", language="zh_CN")
    assert "请客户提供照片" in client.get("/console/macros").text
    number = file_ticket()["number"]
    picker = client.get(f"/console/tickets/{number}").text
    assert re.search(rf'<option value="{made["id"]}">请客户提供照片', picker)
    me.language = "en"
    db.session.commit()
    assert re.search(rf'<option value="{made["id"]}">Ask for a photo', client.get(f"/console/tickets/{number}").text)
    # Without a Chinese name the name shows in Chinese too; the API clears it with null.
    cleared = client.patch(f"/api/v1/macros/{made['id']}", headers=supervisor, json={"version": 1, "name_zh": None})
    assert cleared.status_code == 200 and cleared.json["name_zh"] is None


def test_a_stale_version_is_a_409_and_changes_nothing(client, agent):
    made = _save(client, agent)
    assert client.patch(f"/api/v1/macros/{made['id']}", headers=agent,
                        json={"version": 1, "name": "First"}).status_code == 200
    stale = client.patch(f"/api/v1/macros/{made['id']}", headers=agent, json={"version": 1, "name": "Second"})
    assert stale.status_code == 409
    assert stale.json["error"]["code"] == "stale_version" and stale.json["error"]["current_version"] == 2
    assert client.get(f"/api/v1/macros/{made['id']}", headers=agent).json["name"] == "First"


@pytest.mark.parametrize("field", ["body_en", "body_zh"])
def test_unknown_placeholders_are_refused_naming_field_and_placeholder(client, agent, field):
    refused = client.post("/api/v1/macros", headers=agent,
                          json={"name": "Bad", field: "Dear {customer}, see {customer_name.__class__}"})
    assert refused.status_code == 422
    reasons = " ".join(refused.json["error"]["fields"][field])
    assert "{customer}" in reasons and "{customer_name.__class__}" in reasons
    braces = client.post("/api/v1/macros", headers=agent, json={"name": "Bad", field: "a { b"})
    assert braces.status_code == 422 and field in braces.json["error"]["fields"]
    assert client.get("/api/v1/macros", headers=agent).json == []


def test_every_wrong_field_is_named_in_one_answer(client, agent):
    refused = client.post("/api/v1/macros", headers=agent,
                          json={"name": "X", "body_en": "  ", "set_status": "cancel", "set_priority": "asap"})
    assert refused.status_code == 422
    assert {"set_status", "set_priority"} <= set(refused.json["error"]["fields"])
    empty = client.post("/api/v1/macros", headers=agent, json={"name": "X", "set_department": "nowhere"})
    assert empty.status_code == 422
    assert {"body_en", "set_department"} <= set(empty.json["error"]["fields"])


def test_who_may_share(client, make_staff):
    _a, agent = make_staff("agent", department="after_sales")
    _s, supervisor = make_staff("supervisor", department="after_sales")
    _l, logistics_lead = make_staff("supervisor", department="logistics")
    _x, admin = make_staff("admin", department="quality")
    assert client.post("/api/v1/macros", headers=agent,
                       json={"name": "D", "body_en": "x", "scope": "department"}).status_code == 403
    assert client.post("/api/v1/macros", headers=agent,
                       json={"name": "A", "body_en": "x", "scope": "all"}).status_code == 403
    dept = _save(client, supervisor, name="After-sales", scope="department")
    assert dept["department"] == "after_sales"
    everyone = _save(client, supervisor, name="Everyone", scope="all")
    _save(client, logistics_lead, expect=403, name="Not mine", scope="department", department="after_sales")
    _save(client, admin, name="By admin", scope="department", department="logistics")
    # The agent uses their department's and everyone's, but may not edit them.
    listed = {m["name"]: m for m in client.get("/api/v1/macros", headers=agent).json}
    assert set(listed) == {"After-sales", "Everyone"} and not listed["Everyone"]["can_edit"]
    assert client.patch(f"/api/v1/macros/{dept['id']}", headers=agent,
                        json={"version": 1, "name": "Mine now"}).status_code == 403
    assert client.delete(f"/api/v1/macros/{everyone['id']}", headers=agent).status_code == 403
    # The logistics lead sees everyone's, not after-sales'; the admin manages every shared one.
    assert {m["name"] for m in client.get("/api/v1/macros", headers=logistics_lead).json} == {"Everyone", "By admin"}
    managed = client.get("/api/v1/macros?manageable=true", headers=admin).json
    assert {m["name"] for m in managed} == {"After-sales", "Everyone", "By admin"}
    assert all(m["can_edit"] for m in managed)
    finance = client.get("/api/v1/macros", headers=_finance(make_staff))
    assert finance.status_code == 403


def _finance(make_staff):
    return make_staff("finance", department="finance")[1]


def test_preview_renders_in_the_customers_language_and_changes_nothing(client, agent, act, file_ticket):
    macro = _save(client, agent, name="Link", body_en="Hi {customer_name}, case {ticket_number}: {tracking_link}",
                  body_zh="{customer_name}您好，{department}已受理 {ticket_number}：{tracking_link}",
                  set_status="wait")
    number = _in_progress(act, agent, file_ticket, name="王芳", language="zh_CN")
    before = client.get(f"/api/v1/tickets/{number}", headers=agent).json
    preview = client.post(f"/api/v1/tickets/{number}/macros/{macro['id']}/apply", headers=agent, json={})
    assert preview.status_code == 200, preview.json
    body = preview.json
    assert body["sent"] is False and body["message"] is None and body["language"] == "zh_CN"
    assert body["text"].startswith(f"王芳您好，售后部已受理 {number}：http")
    assert body["actions"] == [{"kind": "status", "value": "wait", "possible": True}]
    # The link opens the case and revoked nothing.
    link = re.search(r"(/track/\S+)", body["text"]).group(1)
    assert client.get(link).status_code == 200
    assert client.get(f"/api/v1/tickets/{number}", headers=agent).json["version"] == before["version"]
    assert _messages(number) == []
    english = file_ticket(name="Emma", email="emma@example.test", language="en")["number"]
    text = client.post(f"/api/v1/tickets/{english}/macros/{macro['id']}/apply", headers=agent, json={}).json["text"]
    assert text.startswith(f"Hi Emma, case {english}: http")


def test_send_replies_and_takes_the_actions_in_one_step(client, agent, act, file_ticket, kefu_mail):
    macro = _save(client, agent, name="Fixed", body_en="Dear {customer_name}, we fixed it. {agent_name}",
                  set_status="resolve", set_priority="high", set_department="logistics")
    number = _in_progress(act, agent, file_ticket, name="Emma Clark", email="emma@example.test")
    version = client.get(f"/api/v1/tickets/{number}", headers=agent).json["version"]
    missing = client.post(f"/api/v1/tickets/{number}/macros/{macro['id']}/apply", headers=agent, json={"send": True})
    assert missing.status_code == 422 and "version" in missing.json["error"]["fields"]
    sent = client.post(f"/api/v1/tickets/{number}/macros/{macro['id']}/apply", headers=agent,
                       json={"send": True, "version": version})
    assert sent.status_code == 200, sent.json
    ticket = sent.json["ticket"]
    assert sent.json["sent"] is True and sent.json["message"]["body"].startswith("Dear Emma Clark, we fixed it.")
    assert ticket["status"] == "resolved" and ticket["priority"] == "high" and ticket["department"] == "logistics"
    assert ticket["resolution"] == sent.json["message"]["body"]
    assert [m.body for m in _messages(number)] == [sent.json["message"]["body"]]
    mails = kefu_mail.find(to="emma@example.test", ticket=number)
    assert any("we fixed it" in m.text for m in mails)
    # The version moved on: sending again with the old one is refused and sends nothing.
    again = client.post(f"/api/v1/tickets/{number}/macros/{macro['id']}/apply", headers=agent,
                        json={"send": True, "version": version})
    assert again.status_code == 409 and again.json["error"]["code"] == "stale_version"
    assert len(_messages(number)) == 1


def test_an_edited_text_is_sent_instead(client, agent, act, file_ticket):
    macro = _save(client, agent, body_en="Hello {customer_name}")
    number = _in_progress(act, agent, file_ticket)
    version = client.get(f"/api/v1/tickets/{number}", headers=agent).json["version"]
    sent = client.post(f"/api/v1/tickets/{number}/macros/{macro['id']}/apply", headers=agent,
                       json={"send": True, "version": version, "body": "Hello again, edited."})
    assert sent.status_code == 200 and sent.json["message"]["body"] == "Hello again, edited."


class RefuseWaiting:
    @hookimpl
    def guard_ticket_change(self, ticket, change, actor):
        if change.action == "wait":
            return {"code": "no_waiting", "message": "We do not wait on customers this week."}
        return None


def test_a_refused_action_sends_nothing(client, agent, act, file_ticket, kefu_plugins):
    kefu_plugins.register(RefuseWaiting(), name="no_waiting")
    macro = _save(client, agent, body_en="Could you send a photo?", set_status="wait", set_priority="urgent")
    number = _in_progress(act, agent, file_ticket)
    before = client.get(f"/api/v1/tickets/{number}", headers=agent).json
    refused = client.post(f"/api/v1/tickets/{number}/macros/{macro['id']}/apply", headers=agent,
                          json={"send": True, "version": before["version"]})
    assert refused.status_code == 409 and refused.json["error"]["code"] == "no_waiting"
    after = client.get(f"/api/v1/tickets/{number}", headers=agent).json
    assert (after["status"], after["priority"], after["version"]) == ("in_progress", before["priority"],
                                                                     before["version"])
    assert _messages(number) == []
    # A step the workflow does not allow from this status: the same.
    resolve = _save(client, agent, body_en="Done", set_status="close")
    illegal = client.post(f"/api/v1/tickets/{number}/macros/{resolve['id']}/apply", headers=agent,
                          json={"send": True, "version": before["version"]})
    assert illegal.status_code == 409 and illegal.json["error"]["code"] == "illegal_transition"
    assert _messages(number) == []
    preview = client.post(f"/api/v1/tickets/{number}/macros/{resolve['id']}/apply", headers=agent, json={})
    assert preview.json["actions"] == [{"kind": "status", "value": "close", "possible": False}]


def test_an_inactive_or_foreign_macro_cannot_be_applied(client, make_staff, act, file_ticket):
    _a, agent = make_staff("agent")
    _o, other = make_staff("agent")
    macro = _save(client, agent)
    number = file_ticket()["number"]
    assert client.post(f"/api/v1/tickets/{number}/macros/{macro['id']}/apply", headers=other,
                       json={}).status_code == 404
    client.patch(f"/api/v1/macros/{macro['id']}", headers=agent, json={"version": 1, "active": False})
    assert client.post(f"/api/v1/tickets/{number}/macros/{macro['id']}/apply", headers=agent,
                       json={}).status_code == 404
    assert client.get("/api/v1/macros", headers=agent).json == []
    assert [m["active"] for m in client.get("/api/v1/macros?manageable=1", headers=agent).json] == [False]
