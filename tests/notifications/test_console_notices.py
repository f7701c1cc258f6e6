"""The bell, the notices page, the seen marks and queue row flags, the
settings' mail preference, and the API - each staff member's own only."""
from __future__ import annotations

import re

from sqlalchemy import select
from webpages import csrf_of

from service.extensions import db
from service.models import Notification, TicketView


def _assign(client, headers, number, staff_id):
    version = client.get(f"/api/v1/tickets/{number}", headers=headers).json["version"]
    assert client.patch(f"/api/v1/tickets/{number}", headers=headers,
                        json={"version": version, "assignee": staff_id}).status_code == 200


def _bell(html):
    match = re.search(r'id="bell"[^>]*>.*?(?:id="bell-count">(\d+)<|</a>)', html, re.DOTALL)
    assert match, "no bell on the page"
    return int(match.group(1) or 0)


def _row(html, number):
    # The queue's row of ticket ``number`` (the row that links to it, whatever its cells).
    rows = re.findall(r"<tr[ >].*?</tr>", html, re.DOTALL)
    return next(row for row in rows if f'href="/console/tickets/{number}"' in row)


def test_bell_list_seen_marks_and_queue_flags(app, client, staff_login, make_staff, file_ticket):
    me = staff_login("agent", department="logistics")
    lead, lead_headers = make_staff("agent", "logistics")
    filed = [file_ticket(subject=f"Parcel {i}") for i in range(2)]
    for f in filed:
        _assign(client, lead_headers, f["number"], me.id)
    queue = client.get("/console/queue/mine").text
    assert _bell(queue) == 2
    assert 'aria-label="2 unread notices"' in queue
    assert "Unread" in _row(queue, filed[0]["number"])  # never opened
    page = client.get("/console/notifications").text
    row = re.search(r'<tr id="notice-\d+" class="notice unread">.*?</tr>', page, re.DOTALL).group(0)  # the newest
    assert f"{lead.name} assigned the ticket to you" in row and f"{filed[1]['number']} Parcel 1" in row
    assert page.index(filed[1]["number"]) < page.index(filed[0]["number"])  # newest first

    # Opening the ticket marks it seen and its notices read; the row loses its marks.
    assert client.get(f"/console/tickets/{filed[0]['number']}").status_code == 200
    assert db.session.scalar(select(TicketView.seen_at).where(TicketView.staff_id == me.id)) is not None
    queue = client.get("/console/queue/mine").text
    assert _bell(queue) == 1
    assert "Unread" not in _row(queue, filed[0]["number"]) and "Customer replied" not in _row(queue, filed[0]["number"])
    # The system's and plugins' own events (an SLA step, a tier decided) mark nothing: they touch most tickets.
    from service.models import Ticket, TicketEvent
    ticket_id = db.session.scalar(select(Ticket.id).where(Ticket.subject == "Parcel 0"))
    db.session.add_all([TicketEvent(ticket_id=ticket_id, actor_type="plugin", actor_name="tier_sla", action="sla_step"),
                        TicketEvent(ticket_id=ticket_id, actor_type="system", action="sla_targets_set")])
    db.session.commit()
    assert "Unread" not in _row(client.get("/console/queue/mine").text, filed[0]["number"])

    # The customer writes: the bell rises and the row says so.
    client.post(f"/api/v1/public/tickets/{filed[0]['token']}/messages", json={"body": "Any news?"})
    queue = client.get("/console/queue/mine").text
    assert _bell(queue) == 2
    row = _row(queue, filed[0]["number"])
    assert "Customer replied" in row and "Unread" in row

    # Mark one read, then all.
    page = client.get("/console/notifications").text
    [first] = re.findall(r'action="(/console/notifications/\d+/read)"', page)[:1]
    assert client.post(first, data={"csrf_token": csrf_of(page)}).status_code == 302
    assert _bell(client.get("/console/notifications").text) == 1
    page = client.get("/console/notifications").text
    assert client.post("/console/notifications/read", data={"csrf_token": csrf_of(page)}).status_code == 302
    assert _bell(client.get("/console/notifications").text) == 0
    # Without the CSRF token nothing changes (and no 500).
    assert client.post("/console/notifications/read").status_code == 400


def test_one_cannot_mark_anothers_notices(app, client, staff_login, make_staff, file_ticket):
    me = staff_login("agent", department="logistics")
    other, _ = make_staff("agent", "logistics")
    lead, lead_headers = make_staff("agent", "logistics")
    number = file_ticket()["number"]
    _assign(client, lead_headers, number, other.id)
    theirs = db.session.scalar(select(Notification.id).where(Notification.staff_id == other.id))
    page = client.get("/console/notifications").text
    assert "No notices yet." in page
    client.post(f"/console/notifications/{theirs}/read", data={"csrf_token": csrf_of(page)})
    db.session.rollback()
    assert db.session.get(Notification, theirs).read_at is None
    assert me.id != other.id


def test_the_pages_speak_chinese(app, client, staff_login, make_staff, file_ticket):
    me = staff_login("agent", language="zh_CN", department="logistics")
    lead, lead_headers = make_staff("agent", "logistics")
    filed = file_ticket()
    _assign(client, lead_headers, filed["number"], me.id)
    client.post(f"/api/v1/public/tickets/{filed['token']}/messages", json={"body": "Any news?"})
    page = client.get("/console/notifications").text
    assert "Wang Fang 回复了" in page and f"{lead.name} 将工单分配给了您" in page
    assert "全部标记为已读" in page and 'aria-label="2 条未读通知"' in page
    queue = client.get("/console/queue/mine").text
    assert "客户已回复" in _row(queue, filed["number"])


def test_the_mail_preference_is_a_setting(app, client, staff_login):
    me = staff_login("agent")
    page = client.get("/console/settings").text
    assert 'name="notify_mail"' in page
    data = {"csrf_token": csrf_of(page), "language": "en", "timezone": "Asia/Shanghai"}
    bad = client.post("/console/settings", data={**data, "notify_mail": "hourly"})
    assert bad.status_code == 422 and "Not one of the choices." in bad.text
    assert client.post("/console/settings", data={**data, "notify_mail": "none"}).status_code == 302
    db.session.rollback()
    assert db.session.get(type(me), me.id).notify_mail == "none"


def test_the_api_lists_and_marks_the_callers_own(app, client, make_staff, file_ticket):
    me, headers = make_staff("agent", "logistics")
    other, other_headers = make_staff("agent", "logistics")
    lead, lead_headers = make_staff("agent", "logistics")
    numbers = [file_ticket(subject=f"Parcel {i}")["number"] for i in range(3)]
    for number in numbers:
        _assign(client, lead_headers, number, me.id)
    _assign(client, lead_headers, numbers[0], other.id)
    listed = client.get("/api/v1/notifications", headers=headers)
    assert listed.status_code == 200
    assert [(n["kind"], n["ticket"], n["actor"]) for n in listed.json["items"]] == [
        ("assigned", n, lead.name) for n in reversed(numbers)]
    assert listed.json["unread"] == 3
    theirs = client.get("/api/v1/notifications", headers=other_headers).json["items"][0]["id"]
    mine = listed.json["items"][0]["id"]
    answer = client.post("/api/v1/notifications/read", headers=headers, json={"ids": [mine, theirs]})
    assert answer.status_code == 200 and answer.json == {"marked": 1, "unread": 2}
    assert client.get("/api/v1/notifications?unread=true", headers=headers).json["unread"] == 2
    assert client.get("/api/v1/notifications", headers=other_headers).json["unread"] == 1
    refused = client.post("/api/v1/notifications/read", headers=headers, json={})
    assert refused.status_code == 422 and "ids" in refused.json["error"]["fields"]
    assert client.post("/api/v1/notifications/read", headers=headers, json={"ids": ["x"]}).status_code == 422
    assert client.post("/api/v1/notifications/read", headers=headers, json={"all": True}).json == {
        "marked": 2, "unread": 0}
    assert client.get("/api/v1/notifications").status_code == 401
    assert client.get("/api/v1/notifications?limit=0", headers=headers).status_code == 422
    assert "/api/v1/notifications" in client.get("/api/v1/openapi.json").json["paths"]
