"""The console: sign-in, roles, queues with counts and filters, the ticket page and its forms."""
from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import select
from webpages import csrf_of

from service import hookimpl
from service.extensions import db
from service.models import Message, Ticket, TicketEvent
from service.models.base import utcnow


def _ticket(number):
    return db.session.scalar(select(Ticket).where(Ticket.number == number))


def _post(client, number, path, **data):
    token = csrf_of(client.get(f"/console/tickets/{number}").text)
    return client.post(f"/console/tickets/{number}/{path}", data={"csrf_token": token, **data})


def test_console_pages_need_a_signed_in_staff_member_of_the_right_role(client, staff_login, file_ticket):
    number = file_ticket()["number"]
    for url in ("/console/", f"/console/tickets/{number}", "/console/dashboard", "/console/admin/staff"):
        response = client.get(url)
        assert response.status_code == 302 and response.headers["Location"].startswith("/console/login?next=")
    staff_login("agent")
    assert client.get(f"/console/tickets/{number}").status_code == 200
    assert client.get("/console/dashboard").status_code == 403
    assert client.get("/console/admin/staff").status_code == 403
    assert "You may not open this page." in client.get("/console/admin/jobs").text


# At risk means due within CONSOLE_AT_RISK_MINUTES; with the default (4 hours)
# the high-priority ticket's first response under the business calendar falls
# inside it at some hours of the day and not at others. One minute keeps every
# ticket here out of that queue, whatever the hour (it has its own test below).
@pytest.mark.parametrize("overrides", [{"CONSOLE_AT_RISK_MINUTES": 1}])
def test_queues_hold_the_right_tickets_with_counts_filters_and_search(client, staff_login, file_ticket, agent):
    me = staff_login("agent", department="logistics")
    mine = file_ticket(subject="Mine")["number"]
    dept = file_ticket(subject="Department")["number"]
    free = file_ticket(subject="Nobody's")["number"]
    client.patch(f"/api/v1/tickets/{mine}", headers=agent, json={"assignee": me.id, "version": 1})
    client.patch(f"/api/v1/tickets/{free}", headers=agent, json={"priority": "high", "version": 1})
    client.post(f"/api/v1/tickets/{dept}/transitions", headers=agent,
                json={"action": "confirm", "version": 1, "department": "logistics"})
    page = client.get("/console/").text
    counts = dict(re.findall(r'id="queue-(\w+)"[^>]*>[^<]*<span class="count">(\d+)</span>', page))
    assert counts == {"mine": "1", "department": "1", "unassigned": "2", "at_risk": "0", "all": "3"}
    assert mine in page and free not in page
    assert dept in client.get("/console/queue/department").text
    unassigned = client.get("/console/queue/unassigned").text
    assert dept in unassigned and free in unassigned and mine not in unassigned
    searched = client.get("/console/queue/all?q=nobody").text
    assert free in searched and mine not in searched
    filtered = client.get("/console/queue/all?priority=high").text
    assert free in filtered and dept not in filtered
    assert client.get("/console/queue/all?category=nope").status_code == 200  # unknown code: empty, no 500
    assert client.get("/console/queue/nope").status_code == 404


def test_the_at_risk_queue_is_sorted_by_the_next_deadline(client, staff_login, file_ticket):
    staff_login("agent")
    numbers = [file_ticket(subject=f"T{i}")["number"] for i in range(3)]
    now = utcnow()
    dues = [now + timedelta(minutes=100), now - timedelta(minutes=30), now + timedelta(days=10)]
    for number, due in zip(numbers, dues):
        ticket = _ticket(number)
        ticket.first_response_due = due
    db.session.commit()
    page = client.get("/console/queue/at_risk").text
    shown = re.findall(r">(KF-\d+)</a>", page)
    assert shown == [numbers[1], numbers[0]]  # overdue first, the one due in 10 days is not at risk


def test_the_ticket_page_moves_the_ticket_through_its_forms(client, staff_login, file_ticket):
    staff = staff_login("agent")
    number = file_ticket(description="It <b>broke</b>")["number"]
    page = client.get(f"/console/tickets/{number}").text
    assert "It &lt;b&gt;broke&lt;/b&gt;" in page
    assert re.findall(r'id="do-(\w+)"', page) == ["confirm"]  # cancelling is for supervisors
    # A step without its required field is refused with a message (the page
    # again, the field named beside it), nothing changes.
    response = _post(client, number, "transition", action="confirm", version="1")
    assert response.status_code == 422
    assert "Please fill in the required fields." in response.text
    assert 'id="department-error"' in response.text
    assert _ticket(number).status == "new"
    _post(client, number, "edit", version="1", assignee="me")
    assert _ticket(number).assignee_id == staff.id
    _post(client, number, "transition", action="confirm", version="2", department="logistics")
    _post(client, number, "transition", action="start", version="3")
    _post(client, number, "messages", body="We are on it.", internal="0")
    _post(client, number, "messages", body="Call the warehouse.", internal="1")
    _post(client, number, "edit", version="4", priority="high", category="other", department="logistics",
          assignee=str(staff.id))
    _post(client, number, "transition", action="resolve", version="5", resolution="Delivered.")
    ticket = _ticket(number)
    assert (ticket.status, ticket.priority, ticket.resolution, ticket.department.code) == (
        "resolved", "high", "Delivered.", "logistics")
    assert [(m.body, m.internal) for m in db.session.scalars(select(Message).order_by(Message.id))] == [
        ("We are on it.", False), ("Call the warehouse.", True)]
    page = client.get(f"/console/tickets/{number}").text
    timeline = page[page.index('id="timeline"'):]
    for text in ("Filed", "Confirm", "Start handling", "We are on it.", "Internal note", "Call the warehouse.",
                 "Edited", "Resolve"):
        assert text in timeline, text


def test_a_stale_form_is_refused_and_says_so(client, staff_login, file_ticket, agent):
    staff_login("agent")
    number = file_ticket()["number"]
    page = client.get(f"/console/tickets/{number}").text
    token, seen = csrf_of(page), re.search(r'name="seen" value="(\d+)"', page).group(1)
    client.post(f"/api/v1/tickets/{number}/transitions", headers=agent,
                json={"action": "confirm", "version": 1, "department": "sales"})
    refused = client.post(f"/console/tickets/{number}/edit",
                          data={"csrf_token": token, "version": "1", "seen": seen, "priority": "urgent"})
    # The page again (409), saying so once, naming what changed, with the
    # agent's choice still selected.
    assert refused.status_code == 409
    assert refused.text.count("Someone else changed this ticket meanwhile") == 1
    changed = refused.text[refused.text.index('id="changed"'):]
    assert "<strong>Confirm</strong>" in changed[:changed.index("</ul>")]
    assert '<option value="urgent" selected>' in refused.text
    assert _ticket(number).priority == "normal"


def test_ticket_panels_render_data_readably_and_escaped(kefu_plugins, client, staff_login, file_ticket):
    class Orders:
        @hookimpl
        def ticket_panels(self, ticket, staff):
            return [{"key": "orders", "title": "Orders <script>",
                     "data": {"count": 2, "last": "<i>TV</i>", "next_step_zh": None, "paid": True}},
                    {"key": "nested", "title": "Nested", "data": {"items": [{"sku": "A-1"}]}}]

    kefu_plugins.register(Orders(), name="orders")
    staff_login("agent")
    number = file_ticket()["number"]
    page = client.get(f"/console/tickets/{number}").text
    # A data-only panel's keys read as words, not as the plugin's field names.
    assert "Orders &lt;script&gt;" in page and "<dt>Count</dt><dd>2</dd>" in page
    assert "<dt>Next step zh</dt><dd></dd>" in page and "<dt>Paid</dt><dd>Yes</dd>" in page
    assert "<dd>&lt;i&gt;TV&lt;/i&gt;</dd>" in page
    assert "&#34;sku&#34;: &#34;A-1&#34;" in page


@pytest.mark.parametrize("tone", ["ok", "warn", "bad", "neutral", None])
def test_a_panel_badge_is_coloured_by_its_tone(kefu_plugins, client, staff_login, file_ticket, agent,
                                                       tone):
    class Status:
        @hookimpl
        def ticket_panels(self, ticket, staff):
            return {"key": "status", "title": "Status", "rows": [
                {"label": "Delivery", "value": "Late", "kind": "badge", "tone": tone}]}

    kefu_plugins.register(Status(), name="status")
    staff_login("agent")
    number = file_ticket()["number"]
    page = client.get(f"/console/tickets/{number}").text
    assert f'<dt>Delivery</dt><dd><span class="badge tone-{tone or "neutral"}">Late</span></dd>' in page
    panel = next(p for p in client.get(f"/api/v1/tickets/{number}?panels=true", headers=agent).json["panels"]
                 if p["key"] == "status")
    assert panel["rows"][0]["tone"] == tone


def test_the_customer_panel_shows_recent_tickets_and_rising_complaints(client, staff_login, file_ticket):
    staff_login("agent")
    old = file_ticket(subject="Old one")["number"]
    _ticket(old).created_at = utcnow() - timedelta(days=120)
    db.session.commit()
    file_ticket(subject="Second")
    number = file_ticket(subject="Third")["number"]
    page = client.get(f"/console/tickets/{number}").text
    panel = page[page.index('id="customer-h"'):]
    assert "Old one" in panel and "Second" in panel
    assert "Complaints in the last 90 days: 2 (the 90 days before: 1)" in panel and "rising" in panel


def test_the_customer_panel_shows_the_satisfaction_class_a_plugin_decides(kefu_plugins, client, staff_login,
                                                                        file_ticket):
    from service import hookimpl

    class Classes:
        @hookimpl
        def satisfaction_class(self, customer):
            return "complaining"

    kefu_plugins.register(Classes(), name="classes")
    staff_login("agent")
    number = file_ticket()["number"]
    page = client.get(f"/console/tickets/{number}").text
    panel = page[page.index('id="customer-h"'):]
    assert 'data-satisfaction="complaining"' in panel and ">Complaining</span>" in panel


def test_staff_settings_change_language_and_time_zone(client, staff_login, file_ticket):
    staff = staff_login("agent")
    number = file_ticket()["number"]
    created = _ticket(number).created_at
    token = csrf_of(client.get("/console/settings").text)
    bad = client.post("/console/settings", data={"csrf_token": token, "language": "fr", "timezone": "Mars/Base"})
    assert bad.status_code == 422
    client.post("/console/settings", data={"csrf_token": token, "language": "zh_CN", "timezone": "Europe/London"})
    assert (staff.language, staff.timezone) == ("zh_CN", "Europe/London")
    page = client.get(f"/console/tickets/{number}", headers={"Accept-Language": "en"}).text
    assert "对话" in page and "发送回复" in page  # the staff member's language wins over the browser's
    from zoneinfo import ZoneInfo
    shown = created.astimezone(ZoneInfo("Europe/London")).strftime("%Y-%m-%d %H:%M")
    assert f">{shown}</time>" in page


def test_a_remedy_waiting_for_finance_is_decided_on_the_ticket_page(kefu_plugins, client, staff_login, file_ticket):
    """The remedy form shows only to the role the remedy waits for; finance
    staff reach the ticket page (read-only otherwise) and approve with a reason."""

    class ToFinance:
        @hookimpl
        def remedy_approval(self, ticket):
            return {"decision": "needs_approval", "reason": "grade C", "approver": "finance"}

    kefu_plugins.register(ToFinance(), name="to_finance")
    number = file_ticket(remedy={"text": "Refund", "amount": "800.00", "currency": "CNY"})["number"]

    staff_login("supervisor")
    page = client.get(f"/console/tickets/{number}").text
    assert "waits for approval" in page and 'id="remedy-form"' not in page  # not the supervisor's to decide
    client.post("/console/logout", data={"csrf_token": csrf_of(page)})

    finance = staff_login("finance")
    page = client.get(f"/console/tickets/{number}").text
    assert 'id="remedy-form"' in page and 'id="remedy-amount">CN¥800.00<' in page  # the currency as the page's language writes it
    assert 'id="message-body"' not in page and 'id="edit-h"' not in page  # finance does not work the ticket
    refused = client.post(f"/console/tickets/{number}/remedy",
                          data={"csrf_token": csrf_of(page), "version": _ticket(number).version,
                                "decision": "approved", "reason": ""}, follow_redirects=True)
    assert "reason" in refused.text and _ticket(number).remedy_decision == "needs_approval"
    done = client.post(f"/console/tickets/{number}/remedy",
                       data={"csrf_token": csrf_of(page), "version": _ticket(number).version,
                             "decision": "approved", "reason": "prepaid by the customer"}, follow_redirects=True)
    assert "Remedy approved." in done.text
    ticket = _ticket(number)
    assert (ticket.remedy_decision, ticket.remedy_reason) == ("approved", "prepaid by the customer")
    event = db.session.scalar(select(TicketEvent).where(TicketEvent.ticket_id == ticket.id,
                                                        TicketEvent.action == "remedy_approved"))
    assert event.actor_id == finance.id and event.details["approver"] == "finance"
    assert client.get("/console/queue/all").status_code == 403  # the working queues stay the agents'


def test_remedies_wait_in_their_approvers_queue(kefu_plugins, client, staff_login, file_ticket):
    """Supervisors and finance find the remedies routed to them in a queue of their own."""
    class Route:
        @hookimpl
        def remedy_approval(self, ticket):
            return {"decision": "needs_approval", "reason": "ask", "approver": ticket.remedy_text}

    kefu_plugins.register(Route(), name="route")
    to_finance = file_ticket(remedy={"text": "finance", "amount": "900.00", "currency": "CNY"})["number"]
    to_supervisor = file_ticket(remedy={"text": "supervisor", "amount": "90.00", "currency": "CNY"})["number"]
    file_ticket()  # no remedy

    def queue_numbers(html):
        found = re.findall(r"KF-\d{6}", html[html.index("<table"):]) if "<table" in html else []
        return list(dict.fromkeys(found))  # a row names its ticket more than once

    def sign_out(html):
        client.post("/console/logout", data={"csrf_token": csrf_of(html)})

    staff_login("agent")
    page = client.get("/console/").text
    assert 'id="queue-remedies"' not in page
    assert client.get("/console/queue/remedies").status_code == 403
    sign_out(page)

    staff_login("supervisor")
    page = client.get("/console/queue/remedies").text
    assert 'id="queue-remedies"' in page and queue_numbers(page) == [to_supervisor]
    sign_out(page)

    staff_login("finance")
    page = client.get("/console/").text  # finance lands on the one queue they have
    assert re.findall(r'id="queue-(\w+)"', page) == ["remedies"] and queue_numbers(page) == [to_finance]
    sign_out(page)

    staff_login("admin")
    page = client.get("/console/queue/remedies").text
    assert sorted(queue_numbers(page)) == sorted([to_finance, to_supervisor])
