"""The console's canned replies (issue 16, item 6): the management page with
its errors by field in one round, in both languages; the picker on the ticket
page; applying a macro without a script (the preview page, edit, send) and
with "Apply and send"; a refusal keeps the typed text and sends nothing."""
from __future__ import annotations

import html
import re

import pytest
from webpages import csrf_of

from service.extensions import db
from service.models import Macro, Message, Ticket
from service.usecases import macros


def _errors(page: str) -> dict[str, str]:
    return {name: html.unescape(text) for name, text in re.findall(r'class="error" id="([a-z_]+)-error">([^<]*)<', page)}


def _public_replies(number):
    ticket = db.session.scalar(db.select(Ticket).where(Ticket.number == number))
    db.session.refresh(ticket)
    return [m.body for m in db.session.scalars(db.select(Message).where(
        Message.ticket_id == ticket.id, Message.author_type == "staff", Message.internal.is_(False)))]


def _ticket(number) -> Ticket:
    ticket = db.session.scalar(db.select(Ticket).where(Ticket.number == number))
    db.session.refresh(ticket)
    return ticket


@pytest.fixture
def in_progress(act, make_staff, file_ticket):
    _staff, agent = make_staff("agent")

    def make(**fields):
        number = file_ticket(**fields)["number"]
        act(agent, number, "confirm", department="after_sales")
        act(agent, number, "start")
        return number

    return make


@pytest.mark.parametrize("language", ["en", "zh_CN"])
def test_the_form_names_every_wrong_field_in_one_round(client, staff_login, language):
    staff_login("agent", language=language)
    form = client.get("/console/macros/new")
    assert form.status_code == 200
    refused = client.post("/console/macros/new", data={
        "csrf_token": csrf_of(form.text), "name": " ", "body_en": "Dear {customer}", "body_zh": "{客户}您好 {",
        "scope": "all", "set_priority": "asap", "active": "1"})
    assert refused.status_code == 422
    errors = _errors(refused.text)
    assert set(errors) >= {"name", "body_en", "body_zh", "set_priority"}
    assert "{customer}" in errors["body_en"] and "{" in errors["body_zh"]
    # What was typed stays, both texts side by side.
    assert "Dear {customer}" in html.unescape(refused.text) and "{客户}您好 {" in html.unescape(refused.text)
    if language == "zh_CN":
        assert "未知的占位符" in errors["body_en"] and "此项为必填" in errors["name"]
    assert db.session.scalar(db.select(db.func.count(Macro.id))) == 0


def test_an_agent_saves_edits_and_deletes_a_personal_macro(client, staff_login):
    me = staff_login("agent")
    form = client.get("/console/macros/new")
    # An agent is offered only "only me".
    assert 'value="personal"' in form.text and 'value="all"' not in form.text
    saved = client.post("/console/macros/new", data={
        "csrf_token": csrf_of(form.text), "name": "Photo please", "body_en": "Hello {customer_name}, a photo?",
        "body_zh": "{customer_name}您好，请发照片。", "scope": "personal", "set_status": "wait", "active": "1"})
    assert saved.status_code == 302
    listed = client.get("/console/macros").text
    assert "Photo please" in listed and "Wait for the customer" in listed
    # Deleting asks first: the form sits inside a closed disclosure that says what goes.
    confirm = listed[listed.index('<details class="confirm-delete">'):]
    confirm = confirm[:confirm.index("</details>")]
    assert 'action="/console/macros/' in confirm and "Delete the canned reply “Photo please”?" in confirm
    assert "Yes, delete it" in confirm
    macro = db.session.scalars(db.select(Macro)).one()
    assert macro.owner_id == me.id and macro.set_status == "wait"
    edit = client.get(f"/console/macros/{macro.id}")
    assert 'name="version" value="1"' in edit.text
    changed = client.post(f"/console/macros/{macro.id}", data={
        "csrf_token": csrf_of(edit.text), "version": "1", "name": "Photo, please", "body_en": "Hi {customer_name}",
        "scope": "personal", "set_priority": "high", "active": "1"})
    assert changed.status_code == 302
    # The same form again with version 1: stale, what was typed is kept.
    stale = client.post(f"/console/macros/{macro.id}", data={
        "csrf_token": csrf_of(edit.text), "version": "1", "name": "Lost edit", "body_en": "Typed text",
        "scope": "personal", "active": "1"})
    assert stale.status_code == 409
    assert "Lost edit" in stale.text and "Typed text" in stale.text and 'name="version" value="2"' in stale.text
    db.session.expire_all()
    assert db.session.get(Macro, macro.id).name == "Photo, please"
    deleted = client.post(f"/console/macros/{macro.id}/delete", data={"csrf_token": csrf_of(edit.text)})
    assert deleted.status_code == 302
    assert db.session.scalar(db.select(db.func.count(Macro.id))) == 0


def test_shared_macros_are_listed_but_not_editable_by_agents(client, staff_login, make_staff):
    supervisor, _headers = make_staff("supervisor")
    shared = macros.create_macro(supervisor, {"name": "Team greeting", "body_en": "Hello", "scope": "department"})
    staff_login("agent")
    page = client.get("/console/macros").text
    assert "Team greeting" in page and f"/console/macros/{shared.id}/delete" not in page
    assert client.get(f"/console/macros/{shared.id}").status_code == 403


def _picker(client, number):
    page = client.get(f"/console/tickets/{number}")
    assert page.status_code == 200
    return page.text


def test_the_picker_without_a_script_previews_edits_and_sends(client, staff_login, in_progress, make_staff):
    me = staff_login("agent")
    macro = macros.create_macro(me, {"name": "Link", "body_en": "Hello {customer_name}, follow {ticket_number} at "
                                                                 "{tracking_link} - {agent_name}",
                                     "set_status": "wait"})
    number = in_progress(name="Emma Clark", email="emma@example.test")
    page = _picker(client, number)
    assert 'id="macro-choice"' in page and f'<option value="{macro.id}">Link' in page
    assert "macros.js" in page
    version = _ticket(number).version
    insert = client.post(f"/console/tickets/{number}/macros/apply", data={
        "csrf_token": csrf_of(page), "version": str(version), "macro": str(macro.id), "do": "insert"})
    assert insert.status_code == 303 and insert.headers["Location"].endswith(f"/tickets/{number}/macros/{macro.id}")
    preview = client.get(insert.headers["Location"])
    assert preview.status_code == 200
    text = html.unescape(re.search(r'<textarea id="macro-body"[^>]*>([^<]*)</textarea>', preview.text).group(1))
    assert text.startswith(f"Hello Emma Clark, follow {number} at http") and text.endswith(me.name)
    assert "Wait for the customer" in preview.text
    assert _public_replies(number) == [] and _ticket(number).version == version  # a preview changes nothing
    sent = client.post(f"/console/tickets/{number}/macros/apply", data={
        "csrf_token": csrf_of(preview.text), "version": str(version), "macro": str(macro.id),
        "body": text + "\nEdited by hand."})
    assert sent.status_code == 302
    assert _public_replies(number) == [text + "\nEdited by hand."]
    assert _ticket(number).status == "waiting_on_customer"


def test_the_json_preview_is_for_the_pickers_script(client, staff_login, in_progress):
    me = staff_login("agent")
    macro = macros.create_macro(me, {"name": "Hi", "body_en": "Hi {customer_name}", "set_priority": "urgent"})
    number = in_progress(name="Lucas Martin", email="lucas@example.test")
    answer = client.get(f"/console/tickets/{number}/macros/{macro.id}", headers={"Accept": "application/json"})
    assert answer.status_code == 200 and answer.json["text"] == "Hi Lucas Martin"
    assert "Urgent" in answer.json["note"] and "Apply and send" in answer.json["note"]


def test_apply_and_send_takes_the_actions_and_a_refusal_sends_nothing(client, staff_login, in_progress):
    me = staff_login("agent")
    resolve = macros.create_macro(me, {"name": "Done", "body_en": "Fixed for you, {customer_name}.",
                                       "set_status": "resolve"})
    close = macros.create_macro(me, {"name": "Close", "body_en": "Closing.", "set_status": "close"})
    number = in_progress(name="Emma Clark", email="emma@example.test")
    page = _picker(client, number)
    version = _ticket(number).version
    refused = client.post(f"/console/tickets/{number}/macros/apply", data={
        "csrf_token": csrf_of(page), "version": str(version), "macro": str(close.id), "do": "send"},
        follow_redirects=True)
    assert "That step is not possible now" in refused.text
    assert _public_replies(number) == [] and _ticket(number).status == "in_progress"
    done = client.post(f"/console/tickets/{number}/macros/apply", data={
        "csrf_token": csrf_of(page), "version": str(version), "macro": str(resolve.id), "do": "send"})
    assert done.status_code == 302
    ticket = _ticket(number)
    assert ticket.status == "resolved" and ticket.resolution == "Fixed for you, Emma Clark."
    assert _public_replies(number) == ["Fixed for you, Emma Clark."]


def test_a_stale_ticket_keeps_the_edited_text_on_the_preview_page(client, staff_login, in_progress, make_staff):
    me = staff_login("agent")
    macro = macros.create_macro(me, {"name": "Hi", "body_en": "Hi {customer_name}"})
    number = in_progress()
    preview = client.get(f"/console/tickets/{number}/macros/{macro.id}")
    stale = client.post(f"/console/tickets/{number}/macros/apply", data={
        "csrf_token": csrf_of(preview.text), "version": "1", "macro": str(macro.id), "body": "My careful words"})
    assert stale.status_code == 409
    assert "My careful words" in stale.text and "Someone else changed this ticket" in stale.text
    assert f'name="version" value="{_ticket(number).version}"' in stale.text
    assert _public_replies(number) == []


def test_the_picker_is_not_offered_on_finished_tickets_nor_to_finance(client, staff_login, make_staff, act,
                                                                       file_ticket):
    staff_login("finance", department="finance")
    number = file_ticket()["number"]
    assert 'id="macro-choice"' not in _picker(client, number)
    assert client.get("/console/macros").status_code == 403


def test_a_blank_edited_text_is_named_and_nothing_is_sent(client, staff_login, in_progress):
    me = staff_login("agent")
    macro = macros.create_macro(me, {"name": "Hi", "body_en": "Hi {customer_name}", "set_status": "wait"})
    number = in_progress()
    preview = client.get(f"/console/tickets/{number}/macros/{macro.id}")
    refused = client.post(f"/console/tickets/{number}/macros/apply", data={
        "csrf_token": csrf_of(preview.text), "version": str(_ticket(number).version), "macro": str(macro.id),
        "body": "   "})
    assert refused.status_code == 422 and "body" in _errors(refused.text)
    assert _public_replies(number) == [] and _ticket(number).status == "in_progress"
