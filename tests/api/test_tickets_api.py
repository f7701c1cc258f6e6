"""The staff ticket API: filtered lists and cursor pages, edits with versions,
messages, attachments, cancelling, late reopening and automatic closing."""
from __future__ import annotations

import base64
import hashlib
import io
import os
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import select

from service.extensions import db
from service.models import Ticket
from service.models.base import utcnow
from service.usecases.tickets import close_stale_resolved


def set_columns(number: str, **values) -> None:
    """Change a ticket's stored columns directly (times the API cannot set)."""
    ticket = db.session.scalar(select(Ticket).where(Ticket.number == number))
    for key, value in values.items():
        setattr(ticket, key, value)
    db.session.commit()


def listed(client, headers, query="", **params) -> list[str]:
    response = client.get(f"/api/v1/tickets{query}", headers=headers, query_string=params or None)
    assert response.status_code == 200, response.json
    return [t["number"] for t in response.json["items"]]


def history(client, headers, number) -> list[dict]:
    return client.get(f"/api/v1/tickets/{number}/history", headers=headers).json


# --- lists ----------------------------------------------------------------------------------

@pytest.fixture
def spread(client, make_staff, file_ticket, act):
    """Tickets that differ in every filterable attribute; returns numbers by name."""
    agent_staff, agent = make_staff("agent")
    other_staff, _ = make_staff("agent")
    t = {
        "new": file_ticket(subject="Fridge noisy", kind="complaint", category="product_quality"),
        "inquiry": file_ticket(subject="Opening hours?", kind="inquiry", email="li@example.test"),
        "delivery": file_ticket(subject="100% late delivery", kind="complaint", category="slow_delivery",
                                email="li@example.test"),
        "billing": file_ticket(subject="Charged twice for order_42", kind="service_request", category="billing",
                               email="zhao@example.test"),
        "resolved": file_ticket(subject="Door handle", description="The handle came off (50% of the time)"),
    }
    n = {k: v["number"] for k, v in t.items()}
    act(agent, n["delivery"], "confirm", department="logistics")
    act(agent, n["billing"], "confirm", department="finance")
    act(agent, n["billing"], "start")
    act(agent, n["resolved"], "confirm", department="after_sales")
    act(agent, n["resolved"], "start")
    act(agent, n["resolved"], "resolve", resolution="Fixed.")
    for key, changes in (("delivery", {"priority": "urgent", "assignee": agent_staff.id}),
                         ("billing", {"priority": "high", "assignee": other_staff.id})):
        version = client.get(f"/api/v1/tickets/{n[key]}", headers=agent).json["version"]
        assert client.patch(f"/api/v1/tickets/{n[key]}", headers=agent,
                            json={"version": version, **changes}).status_code == 200
    n["agent_id"], n["other_id"] = agent_staff.id, other_staff.id
    n["headers"] = agent
    return n


def test_list_filters(client, spread):
    n, h = spread, spread["headers"]
    everything = [n[k] for k in ("resolved", "billing", "delivery", "inquiry", "new")]
    assert listed(client, h) == everything  # newest first

    assert listed(client, h, status="new") == [n["inquiry"], n["new"]]
    assert listed(client, h, "?status=resolved&status=in_progress") == [n["resolved"], n["billing"]]
    assert listed(client, h, priority="urgent") == [n["delivery"]]
    assert listed(client, h, "?priority=high&priority=urgent") == [n["billing"], n["delivery"]]
    assert listed(client, h, kind="inquiry") == [n["inquiry"]]
    assert listed(client, h, "?kind=service_request&kind=inquiry") == [n["billing"], n["inquiry"]]
    assert listed(client, h, category="billing") == [n["billing"]]
    assert listed(client, h, category="other") == [n["resolved"], n["inquiry"]]
    assert listed(client, h, department="logistics") == [n["delivery"]]
    assert listed(client, h, department="sales") == []
    assert listed(client, h, assignee=n["agent_id"]) == [n["delivery"]]
    assert listed(client, h, assignee=n["other_id"]) == [n["billing"]]

    li = client.get(f"/api/v1/tickets/{n['inquiry']}", headers=h).json["customer"]["id"]
    assert listed(client, h, customer=li) == [n["delivery"], n["inquiry"]]
    assert listed(client, h, customer=li, kind="complaint") == [n["delivery"]]

    for bad in ({"status": "open"}, {"priority": "meh"}, {"kind": "rant"}, {"overdue": "maybe"},
                {"created_from": "yesterday"}, {"limit": 0}, {"limit": 101}, {"assignee": 0}):
        response = client.get("/api/v1/tickets", headers=h, query_string=bad)
        assert response.status_code == 422, bad
        named = {f.split(".")[0] for f in response.json["error"]["fields"]}  # list items: "status.0"
        assert set(bad) <= named, (bad, response.json)
    unknown = client.get("/api/v1/tickets", headers=h, query_string={"category": "nope"})
    assert unknown.status_code == 422 and "category" in unknown.json["error"]["fields"]


def test_overdue_filter(client, spread):
    n, h = spread, spread["headers"]
    past = utcnow() - timedelta(hours=1)
    set_columns(n["delivery"], resolution_due=past)
    set_columns(n["resolved"], resolution_due=past)  # resolved: no longer counts as overdue
    set_columns(n["inquiry"], resolution_due=None)
    assert listed(client, h, overdue="true") == [n["delivery"]]
    assert listed(client, h, overdue="false") == [n["resolved"], n["billing"], n["inquiry"], n["new"]]


def test_created_range_filter(client, spread):
    n, h = spread, spread["headers"]
    base = datetime(2024, 3, 1, 8, 0, tzinfo=timezone.utc)
    for i, key in enumerate(("new", "inquiry", "delivery", "billing", "resolved")):
        set_columns(n[key], created_at=base + timedelta(days=i))
    assert listed(client, h, created_from="2024-03-02T08:00:00Z") == [
        n["resolved"], n["billing"], n["delivery"], n["inquiry"]]
    # created_to is exclusive; a time with an offset means the same instant as in UTC.
    assert listed(client, h, created_from="2024-03-02T08:00:00Z", created_to="2024-03-04T08:00:00Z") == [
        n["delivery"], n["inquiry"]]
    assert listed(client, h, created_to="2024-03-02T16:00:00+08:00") == [n["new"]]
    assert listed(client, h, created_from="2030-01-01T00:00:00Z") == []


def test_text_search_treats_percent_and_underscore_literally(client, spread):
    n, h = spread, spread["headers"]
    assert listed(client, h, q="%") == [n["resolved"], n["delivery"]]        # "100% late", "(50% of"
    assert listed(client, h, q="100%") == [n["delivery"]]
    assert listed(client, h, q="0%") == [n["resolved"], n["delivery"]]
    assert listed(client, h, q="_") == [n["billing"]]                          # "order_42"
    assert listed(client, h, q="r_4") == [n["billing"]]
    assert listed(client, h, q="e_") == []                                     # "_" is not a wildcard
    assert listed(client, h, q="FRIDGE") == [n["new"]]                         # case-insensitive
    assert listed(client, h, q="came off") == [n["resolved"]]                 # description too
    assert listed(client, h, q=n["billing"]) == [n["billing"]]                # and the number
    assert listed(client, h, q="\\") == []


def test_cursor_pagination_newest_first_without_duplicates_or_gaps(client, agent, file_ticket):
    numbers = [file_ticket(subject=f"Complaint {i}", kind="inquiry" if i % 3 == 0 else "complaint")["number"]
               for i in range(11)]
    expected = list(reversed(numbers))

    def walk(**params):
        seen, cursor, pages = [], None, 0
        while True:
            query = {**params, **({"cursor": cursor} if cursor else {})}
            page = client.get("/api/v1/tickets", headers=agent, query_string=query)
            assert page.status_code == 200, page.json
            assert len(page.json["items"]) <= params["limit"]
            seen += [t["number"] for t in page.json["items"]]
            pages += 1
            cursor = page.json["next_cursor"]
            if cursor is None:
                return seen, pages

    seen, pages = walk(limit=4)
    assert seen == expected and pages == 3
    seen, pages = walk(limit=11)
    assert seen == expected and pages == 1
    seen, pages = walk(limit=1)
    assert seen == expected and pages == 11
    inquiries, _ = walk(limit=2, kind="inquiry")
    assert inquiries == [n for i, n in reversed(list(enumerate(numbers))) if i % 3 == 0]

    # A page is stable when newer tickets arrive: the cursor points below, not at an offset.
    first = client.get("/api/v1/tickets", headers=agent, query_string={"limit": 5}).json
    file_ticket(subject="Arrived meanwhile")
    second = client.get("/api/v1/tickets", headers=agent,
                        query_string={"limit": 5, "cursor": first["next_cursor"]}).json
    assert [t["number"] for t in second["items"]] == expected[5:10]


@pytest.mark.parametrize("cursor", [
    "!!!", "abc", base64.urlsafe_b64encode(b"x12").decode(), base64.urlsafe_b64encode(b"t-3").decode(),
    base64.urlsafe_b64encode(b"t" + b"9" * 40).decode(), base64.urlsafe_b64encode(b"\xff\xfe").decode(),
])
def test_malformed_cursor_is_422_naming_cursor(client, agent, file_ticket, cursor):
    file_ticket()
    response = client.get("/api/v1/tickets", headers=agent, query_string={"cursor": cursor})
    assert response.status_code == 422, response.json
    assert "cursor" in response.json["error"]["fields"]


# --- edits ----------------------------------------------------------------------------------

def test_patch_with_version_records_the_changes(client, make_staff, file_ticket):
    staff, agent = make_staff("agent")
    number = file_ticket()["number"]
    before = client.get(f"/api/v1/tickets/{number}", headers=agent).json
    assert before["version"] == 1 and before["priority"] == "normal"

    patched = client.patch(f"/api/v1/tickets/{number}", headers=agent,
                           json={"version": 1, "priority": "urgent", "category": "billing",
                                 "department": "finance", "assignee": staff.id})
    assert patched.status_code == 200, patched.json
    t = patched.json
    assert (t["priority"], t["category"], t["department"], t["assignee"], t["version"]) == (
        "urgent", "billing", "finance", {"id": staff.id, "name": staff.name}, 2)
    # A priority change re-applies the SLA: urgent is due sooner than normal.
    assert t["sla"]["resolution_due"] < before["sla"]["resolution_due"]

    updated = [e for e in history(client, agent, number) if e["action"] == "updated"]
    assert len(updated) == 1
    assert updated[0]["details"]["changes"] == {
        "priority": ["normal", "urgent"], "category": ["other", "billing"],
        "department": [None, "finance"], "assignee": [None, staff.id]}
    assert updated[0]["actor"] == {"type": "staff", "id": staff.id, "name": staff.name}

    # Unassigning and clearing the department are changes too.
    cleared = client.patch(f"/api/v1/tickets/{number}", headers=agent,
                           json={"version": 2, "assignee": None, "department": None})
    assert cleared.status_code == 200 and cleared.json["assignee"] is None and cleared.json["version"] == 3
    # The same values again change nothing: no new version, no event.
    same = client.patch(f"/api/v1/tickets/{number}", headers=agent, json={"version": 3, "priority": "urgent"})
    assert same.status_code == 200 and same.json["version"] == 3
    assert len([e for e in history(client, agent, number) if e["action"] == "updated"]) == 2


def test_patch_refuses_unknown_assignee_missing_version_and_nothing_to_change(client, agent, file_ticket):
    number = file_ticket()["number"]
    for body, field in (({"version": 1, "assignee": 9999}, "assignee"),
                        ({"version": 1, "assignee": 2**40}, "assignee"),
                        ({"version": 1, "department": "nope"}, "department"),
                        ({"priority": "high"}, "version"),
                        ({"version": 1}, "version"),
                        ({"version": 1, "status": "closed"}, "status")):
        response = client.patch(f"/api/v1/tickets/{number}", headers=agent, json=body)
        assert response.status_code == 422, (body, response.json)
        assert field in response.json["error"]["fields"], (body, response.json)
    ticket = client.get(f"/api/v1/tickets/{number}", headers=agent).json
    assert (ticket["version"], ticket["assignee"], ticket["department"]) == (1, None, None)
    assert not [e for e in history(client, agent, number) if e["action"] == "updated"]


def test_closed_and_cancelled_tickets_cannot_be_edited(client, agent, supervisor, file_ticket, act):
    number = file_ticket()["number"]
    act(supervisor, number, "cancel", reason="duplicate")
    version = client.get(f"/api/v1/tickets/{number}", headers=agent).json["version"]
    response = client.patch(f"/api/v1/tickets/{number}", headers=agent, json={"version": version, "priority": "low"})
    assert response.status_code == 409 and response.json["error"]["current_status"] == "cancelled"


# --- messages -------------------------------------------------------------------------------

def test_public_reply_and_internal_note(client, make_staff, file_ticket):
    staff, agent = make_staff("agent")
    filed = file_ticket()
    number, token = filed["number"], filed["token"]
    reply = client.post(f"/api/v1/tickets/{number}/messages", headers=agent, json={"body": "We are checking."})
    note = client.post(f"/api/v1/tickets/{number}/messages", headers=agent,
                       json={"body": "Courier lost it", "internal": True})
    assert reply.status_code == note.status_code == 201
    assert (reply.json["internal"], note.json["internal"]) == (False, True)
    assert reply.json["author_type"] == "staff" and reply.json["staff_id"] == staff.id

    staff_view = client.get(f"/api/v1/tickets/{number}/messages", headers=agent).json
    assert [(m["body"], m["internal"]) for m in staff_view] == [("We are checking.", False), ("Courier lost it", True)]
    public_view = client.get(f"/api/v1/public/tickets/{token}").json["messages"]
    assert [(m["author"], m["body"]) for m in public_view] == [("staff", "We are checking.")]
    actions = [e["action"] for e in history(client, agent, number)]
    assert "message_added" in actions and "note_added" in actions

    blank = client.post(f"/api/v1/tickets/{number}/messages", headers=agent, json={"body": "   "})
    assert blank.status_code == 422 and "body" in blank.json["error"]["fields"]
    assert len(client.get(f"/api/v1/tickets/{number}/messages", headers=agent).json) == 2


def test_customer_reply_hands_a_waiting_ticket_back(client, agent, file_ticket, act):
    filed = file_ticket()
    number, token = filed["number"], filed["token"]
    act(agent, number, "confirm", department="after_sales")
    act(agent, number, "start")
    waiting = act(agent, number, "wait")
    assert waiting["status"] == "waiting_on_customer"

    reply = client.post(f"/api/v1/public/tickets/{token}/messages", json={"body": "Here is the serial: 123"})
    assert reply.status_code == 201 and reply.json["author"] == "customer"
    ticket = client.get(f"/api/v1/tickets/{number}", headers=agent).json
    assert ticket["status"] == "in_progress" and ticket["waiting_since"] is None
    assert ticket["version"] == waiting["version"] + 1
    moved = [e for e in history(client, agent, number) if e["action"] == "customer_reply"]
    assert len(moved) == 1 and moved[0]["actor"]["type"] == "customer"
    assert (moved[0]["from_status"], moved[0]["to_status"]) == ("waiting_on_customer", "in_progress")

    # A reply while the ticket is not waiting adds the message but moves nothing.
    again = client.post(f"/api/v1/public/tickets/{token}/messages", json={"body": "Any news?"})
    assert again.status_code == 201
    assert client.get(f"/api/v1/tickets/{number}", headers=agent).json["status"] == "in_progress"
    staff_view = client.get(f"/api/v1/tickets/{number}/messages", headers=agent).json
    assert [(m["author_type"], m["body"]) for m in staff_view] == [
        ("customer", "Here is the serial: 123"), ("customer", "Any news?")]


def test_customer_cannot_write_on_closed_or_cancelled_tickets(client, agent, supervisor, file_ticket, act):
    closed, cancelled = file_ticket(), file_ticket()
    act(agent, closed["number"], "confirm", department="after_sales")
    act(agent, closed["number"], "start")
    act(agent, closed["number"], "resolve", resolution="Done.")
    assert client.post(f"/api/v1/public/tickets/{closed['token']}/resolution",
                       json={"accepted": True}).json["status"] == "closed"
    act(supervisor, cancelled["number"], "cancel", reason="spam")

    for filed, status in ((closed, "closed"), (cancelled, "cancelled")):
        view = client.get(f"/api/v1/public/tickets/{filed['token']}").json
        assert view["can_reply"] is False
        response = client.post(f"/api/v1/public/tickets/{filed['token']}/messages", json={"body": "Hello?"})
        assert response.status_code == 409, response.json
        assert response.json["error"]["current_status"] == status
        assert client.get(f"/api/v1/tickets/{filed['number']}/messages", headers=agent).json == []


# --- attachments ----------------------------------------------------------------------------

def upload(client, headers, number, data, filename, content_type):
    return client.post(f"/api/v1/tickets/{number}/attachments", headers=headers,
                       data={"file": (io.BytesIO(data), filename, content_type)},
                       content_type="multipart/form-data")


def stored_files(app) -> list[str]:
    root = app.config["ATTACHMENT_DIR"]
    return [os.path.join(d, f) for d, _, files in os.walk(root) for f in files] if os.path.isdir(root) else []


@pytest.mark.parametrize("overrides", [{"ATTACHMENT_MAX_BYTES": 1024}], ids=["max-1KiB"])
def test_attachments_upload_check_and_download(app, client, agent, file_ticket):
    number = file_ticket()["number"]
    pdf = b"%PDF-1.4 receipt " + bytes(range(256)) * 3
    created = upload(client, agent, number, pdf, "receipt.pdf", "application/pdf")
    assert created.status_code == 201, created.json
    a = created.json
    assert (a["filename"], a["content_type"], a["size"], a["sha256"]) == (
        "receipt.pdf", "application/pdf", len(pdf), hashlib.sha256(pdf).hexdigest())
    assert len(stored_files(app)) == 1

    refused = [
        upload(client, agent, number, b"MZ\x90\x00", "tool.exe", "application/x-msdownload"),   # type not allowed
        upload(client, agent, number, b"%PDF-1.4", "photo.png", "application/pdf"),           # name disagrees
        upload(client, agent, number, b"hello", "notes", "text/plain"),                       # no extension
        upload(client, agent, number, b"x" * 1025, "big.txt", "text/plain"),                   # one byte too many
    ]
    for response in refused:
        assert response.status_code == 422, response.json
        assert "file" in response.json["error"]["fields"]
    assert "too large" in refused[-1].json["error"]["message"]
    exactly = upload(client, agent, number, b"y" * 1024, "fits.txt", "text/plain")
    assert exactly.status_code == 201
    no_file = client.post(f"/api/v1/tickets/{number}/attachments", headers=agent, data={},
                          content_type="multipart/form-data")
    assert no_file.status_code == 422 and "file" in no_file.json["error"]["fields"]

    listing = client.get(f"/api/v1/tickets/{number}/attachments", headers=agent).json
    assert [x["filename"] for x in listing] == ["receipt.pdf", "fits.txt"]
    assert len(stored_files(app)) == 2  # nothing kept for the refused uploads

    download = client.get(f"/api/v1/tickets/{number}/attachments/{a['id']}", headers=agent)
    assert download.status_code == 200
    assert download.data == pdf
    assert download.mimetype == "application/pdf"
    disposition = download.headers["Content-Disposition"]
    assert disposition.startswith("attachment") and "receipt.pdf" in disposition
    events = [e for e in history(client, agent, number) if e["action"] == "attachment_added"]
    assert [e["details"]["filename"] for e in events] == ["receipt.pdf", "fits.txt"]

    other = file_ticket()["number"]
    assert client.get(f"/api/v1/tickets/{other}/attachments/{a['id']}", headers=agent).status_code == 404


def test_attachment_names_are_reduced_to_their_base_name(app, client, agent, file_ticket):
    number = file_ticket()["number"]
    created = upload(client, agent, number, b"hello", "../../etc/notes.txt", "text/plain")
    assert created.status_code == 201 and created.json["filename"] == "notes.txt"
    root = os.path.realpath(app.config["ATTACHMENT_DIR"])
    assert all(os.path.realpath(p).startswith(root + os.sep) for p in stored_files(app))


# --- cancel, late reopen, auto close -------------------------------------------------------------

def test_supervisor_cancels_with_a_reason(client, agent, supervisor, file_ticket, act):
    number = file_ticket()["number"]
    act(agent, number, "confirm", department="sales")
    version = client.get(f"/api/v1/tickets/{number}", headers=supervisor).json["version"]
    no_reason = client.post(f"/api/v1/tickets/{number}/transitions", headers=supervisor,
                            json={"action": "cancel", "version": version, "reason": "  "})
    assert no_reason.status_code == 422 and "reason" in no_reason.json["error"]["fields"]

    cancelled = act(supervisor, number, "cancel", reason="Duplicate of an earlier ticket")
    assert cancelled["status"] == "cancelled" and cancelled["reason"] == "Duplicate of an earlier ticket"
    assert cancelled["cancelled_at"] is not None and cancelled["allowed_actions"] == []
    event = history(client, supervisor, number)[-1]
    assert (event["action"], event["from_status"], event["to_status"]) == ("cancel", "confirmed", "cancelled")
    assert event["details"]["reason"] == "Duplicate of an earlier ticket"
    assert event["actor"]["type"] == "staff"


def _resolved(agent, act, file_ticket):
    filed = file_ticket(subject="Oven door")
    act(agent, filed["number"], "confirm", department="after_sales")
    act(agent, filed["number"], "start")
    act(agent, filed["number"], "resolve", resolution="Adjusted the hinge.")
    return filed


def test_rejection_within_the_window_reopens(client, agent, act, file_ticket):
    filed = _resolved(agent, act, file_ticket)
    set_columns(filed["number"], resolved_at=utcnow() - timedelta(days=13))
    answer = client.post(f"/api/v1/public/tickets/{filed['token']}/resolution",
                         json={"accepted": False, "reason": "Still squeaks"})
    assert answer.status_code == 200 and answer.json == {"number": filed["number"], "status": "in_progress",
                                                         "followup": None}


def test_late_rejection_opens_a_linked_followup(client, agent, act, file_ticket):
    filed = _resolved(agent, act, file_ticket)
    number, token = filed["number"], filed["token"]
    set_columns(number, resolved_at=utcnow() - timedelta(days=15))  # REOPEN_WINDOW_DAYS is 14

    answer = client.post(f"/api/v1/public/tickets/{token}/resolution",
                         json={"accepted": False, "reason": "It broke again"})
    assert answer.status_code == 200, answer.json
    assert answer.json["status"] == "closed"
    followup = answer.json["followup"]
    assert followup["number"] != number and followup["token"]

    original = client.get(f"/api/v1/tickets/{number}", headers=agent).json
    assert original["status"] == "closed" and original["reopen_count"] == 0
    new = client.get(f"/api/v1/tickets/{followup['number']}", headers=agent).json
    assert new["parent"] == number and new["status"] == "new"
    assert new["description"] == "It broke again" and number in new["subject"]
    assert new["customer"] == original["customer"] and new["department"] == "after_sales"
    assert any(e["action"] == "followup_opened" and e["details"]["followup"] == followup["number"]
               for e in history(client, agent, number))

    # The follow-up's own link works and opens only the follow-up; the old link shows the closed ticket.
    view = client.get(f"/api/v1/public/tickets/{followup['token']}")
    assert view.status_code == 200 and view.json["number"] == followup["number"]
    assert client.get(f"/api/v1/public/tickets/{token}").json["status"] == "closed"
    assert client.post(f"/api/v1/public/tickets/{followup['token']}/messages",
                       json={"body": "Photos attached later"}).status_code == 201


@pytest.mark.parametrize("overrides", [{"REOPEN_WINDOW_DAYS": 0}], ids=["window-0-days"])
def test_late_staff_reopen_answers_the_followup(client, agent, act, file_ticket):
    filed = _resolved(agent, act, file_ticket)
    reopened = act(agent, filed["number"], "reopen", reason="Customer called: broken again")
    assert reopened["status"] == "closed"
    followup = reopened["followup"]
    assert followup is not None and followup["number"] != filed["number"]
    new = client.get(f"/api/v1/tickets/{followup['number']}", headers=agent).json
    assert new["parent"] == filed["number"] and new["status"] == "new"
    assert client.get(f"/api/v1/public/tickets/{followup['token']}").json["number"] == followup["number"]
    listed_numbers = listed(client, agent)
    assert listed_numbers[0] == followup["number"] and filed["number"] in listed_numbers


def test_stale_resolved_tickets_close_automatically(client, agent, act, file_ticket):
    old = _resolved(agent, act, file_ticket)["number"]
    working = file_ticket()["number"]
    act(agent, working, "confirm", department="sales")
    act(agent, working, "start")
    now = utcnow()

    assert close_stale_resolved(now=now + timedelta(days=6)) == []  # AUTO_CLOSE_DAYS is 7
    assert client.get(f"/api/v1/tickets/{old}", headers=agent).json["status"] == "resolved"

    assert close_stale_resolved(now=now + timedelta(days=8)) == [old]
    closed = client.get(f"/api/v1/tickets/{old}", headers=agent).json
    assert closed["status"] == "closed" and closed["closed_at"] is not None
    assert client.get(f"/api/v1/tickets/{working}", headers=agent).json["status"] == "in_progress"
    events = history(client, agent, old)
    assert [e["action"] for e in events[-2:]] == ["close", "auto_closed"]
    assert events[-2]["actor"]["type"] == "system" and events[-1]["details"]["days"] == 7

    assert close_stale_resolved(now=now + timedelta(days=30)) == []  # nothing left to close
