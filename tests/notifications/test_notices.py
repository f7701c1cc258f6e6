"""Staff notices: each trigger, who hears (never the actor), and the mail
per preference, once, over a real SMTP server on loopback."""
from __future__ import annotations

from sqlalchemy import select

from service.extensions import db
from service.mail.outgoing.staff_notices import send_staff_notices
from service.models import Notification, OutboxJob


def _assign(client, headers, number, staff_id):
    version = client.get(f"/api/v1/tickets/{number}", headers=headers).json["version"]
    response = client.patch(f"/api/v1/tickets/{number}", headers=headers,
                            json={"version": version, "assignee": staff_id})
    assert response.status_code == 200, response.json
    return response.json


def _mails_to(sink, staff):
    return [m for m in sink.handler_obj.messages if m["To"].addresses[0].addr_spec == staff.email]


def _assigned_ticket(client, make_staff, file_ticket, act, **fields):
    """A confirmed ticket in logistics assigned (by a colleague) to a new agent."""
    lead, lead_headers = make_staff("agent", "logistics")
    owner, owner_headers = make_staff("agent", "logistics")
    filed = file_ticket(**fields)
    act(lead_headers, filed["number"], "confirm", department="logistics")
    _assign(client, lead_headers, filed["number"], owner.id)
    return filed, owner, owner_headers, lead, lead_headers


def test_a_customer_reply_tells_the_assignee_in_the_console_and_by_mail_once(
        app, client, make_staff, file_ticket, act, jobs, smtp_sink, notices):
    filed, owner, owner_headers, lead, _ = _assigned_ticket(client, make_staff, file_ticket, act)
    jobs.drain(periodic=False)
    assert notices(filed["number"]) == [("assigned", owner.id, lead.name)]
    reply = client.post(f"/api/v1/public/tickets/{filed['token']}/messages", json={"body": "Any news?"})
    assert reply.status_code == 201, reply.json
    assert notices(filed["number"])[-1] == ("customer_replied", owner.id, "Wang Fang")
    jobs.drain(periodic=False)
    mails = _mails_to(smtp_sink, owner)
    assert [m["Subject"] for m in mails] == [
        f"[{filed['number']}] Assigned to you: Washing machine not delivered",
        f"[{filed['number']}] The customer replied: Washing machine not delivered"]
    body = mails[1].get_body(("plain",)).get_content()
    assert "Wang Fang replied on ticket" in body and f"/console/tickets/{filed['number']}" in body
    assert mails[1]["X-Kefu-Notice"] == "staff_notice"
    # Sent once: its notice is marked, and the job run again (a retry) sends nothing.
    row = db.session.scalars(select(Notification).where(Notification.kind == "customer_replied")).one()
    assert row.emailed_at is not None and row.read_at is None
    ids = [i for job in db.session.scalars(select(OutboxJob).where(OutboxJob.name == "mail.staff_notices"))
           for i in job.kwargs["ids"]]
    assert send_staff_notices(ids) == {"already sent": 2}
    jobs.drain(periodic=False)
    assert len(_mails_to(smtp_sink, owner)) == 2
    # Nobody else heard of it: the lead acted (the assignment) and the ticket is not theirs.
    assert _mails_to(smtp_sink, lead) == []


def test_nobody_hears_of_their_own_action(app, client, make_staff, file_ticket, act, jobs, notices):
    me, headers = make_staff("agent", "logistics")
    number = file_ticket()["number"]
    act(headers, number, "confirm", department="logistics")
    _assign(client, headers, number, me.id)  # I take it myself
    client.post(f"/api/v1/tickets/{number}/messages", headers=headers, json={"body": "On it.", "internal": False})
    assert notices(number) == []


def test_chinese_staff_get_chinese_mail(app, client, make_staff, file_ticket, act, jobs, smtp_sink):
    lead, lead_headers = make_staff("agent", "logistics")
    owner, _ = make_staff("agent", "logistics")
    owner.language = "zh_CN"
    db.session.commit()
    number = file_ticket()["number"]
    act(lead_headers, number, "confirm", department="logistics")
    _assign(client, lead_headers, number, owner.id)
    jobs.drain(periodic=False)
    [mail] = _mails_to(smtp_sink, owner)
    assert mail["Subject"] == f"[{number}] 分配给您的工单：Washing machine not delivered"
    assert "在控制台中打开" in mail.get_body(("plain",)).get_content()


def test_an_unassigned_ticket_tells_its_department_and_supervisor(
        app, client, make_staff, file_ticket, act, supervise, notices):
    lead, lead_headers = make_staff("agent", "logistics")
    member, _ = make_staff("agent", "logistics")
    boss, _ = make_staff("supervisor", "quality")  # supervises logistics from another department
    make_staff("agent", "sales")  # another department: not told
    finance, _ = make_staff("finance", "logistics")  # does not answer for tickets: not told
    supervise(boss, "logistics")
    filed = file_ticket()
    act(lead_headers, filed["number"], "confirm", department="logistics")
    client.post(f"/api/v1/public/tickets/{filed['token']}/messages", json={"body": "Hello?"})
    told = {staff_id for kind, staff_id, _ in notices(filed["number"]) if kind == "customer_replied"}
    assert told == {lead.id, member.id, boss.id}
    assert finance.id not in told


def test_a_ticket_without_department_tells_every_active_supervisor(app, client, make_staff, file_ticket, notices):
    one, _ = make_staff("supervisor", "sales")
    two, _ = make_staff("supervisor", "quality")
    gone, _ = make_staff("supervisor", "quality")
    gone.active = False
    db.session.commit()
    make_staff("agent", "logistics")
    filed = file_ticket()  # new, no department yet
    client.post(f"/api/v1/public/tickets/{filed['token']}/messages", json={"body": "Hello?"})
    assert {s for kind, s, _ in notices(filed["number"]) if kind == "customer_replied"} == {one.id, two.id}


def test_mail_preference_none_keeps_the_console_notice_without_mail(
        app, client, make_staff, file_ticket, act, jobs, smtp_sink, notices):
    filed, owner, *_ = _assigned_ticket(client, make_staff, file_ticket, act)
    jobs.drain(periodic=False)
    owner.notify_mail = "none"
    db.session.commit()
    client.post(f"/api/v1/public/tickets/{filed['token']}/messages", json={"body": "Any news?"})
    jobs.drain(periodic=False)
    assert notices(filed["number"])[-1][:2] == ("customer_replied", owner.id)
    assert [m["Subject"].split("] ")[1] for m in _mails_to(smtp_sink, owner)] == [
        "Assigned to you: Washing machine not delivered"]  # before the change only
    row = db.session.scalars(select(Notification).where(Notification.kind == "customer_replied")).one()
    assert row.emailed_at is None


def test_a_rejected_resolution_tells_the_assignee(app, client, make_staff, file_ticket, act, notices):
    filed, owner, owner_headers, *_ = _assigned_ticket(client, make_staff, file_ticket, act)
    act(owner_headers, filed["number"], "start")
    act(owner_headers, filed["number"], "resolve", resolution="A new unit is on its way.")
    answer = client.post(f"/api/v1/public/tickets/{filed['token']}/resolution",
                         json={"accepted": False, "reason": "It did not arrive."})
    assert answer.status_code == 200, answer.json
    assert [n for n in notices(filed["number"]) if n[0] == "customer_rejected"] == [
        ("customer_rejected", owner.id, "Wang Fang")]  # once, though the ticket was also reopened


def test_an_sla_step_tells_who_answers_for_the_ticket(app, client, make_staff, file_ticket, act, notices):
    from datetime import timedelta

    from plugins.tier_sla.models import TicketSla
    from plugins.tier_sla.sweep import sweep
    from service.models import Ticket

    filed, owner, *_ = _assigned_ticket(client, make_staff, file_ticket, act)
    ticket = db.session.scalar(select(Ticket).where(Ticket.number == filed["number"]))
    clock = db.session.get(TicketSla, ticket.id)
    assert sweep(now=clock.started_at + timedelta(days=30))["steps"] >= 1
    kinds = [(k, s) for k, s, _ in notices(filed["number"]) if k.startswith("sla_")]
    assert kinds and all(s == owner.id or k == "sla_takeover" for k, s in kinds)
    assert kinds[0] == ("sla_warning", owner.id)


def test_notify_staff_refuses_an_unknown_kind_and_needs_a_unit(app, client, make_staff, file_ticket):
    import pytest

    from service import sdk

    ticket = sdk.get_ticket(file_ticket()["number"])
    with pytest.raises(ValueError, match="notice kind"):
        with sdk.UnitOfWork():
            sdk.notify_staff(ticket, "nonsense", sdk.SYSTEM)
    with pytest.raises(ValueError, match="UnitOfWork"):
        sdk.notify_staff(ticket, "sla_warning", sdk.SYSTEM)


def test_a_rolled_back_change_tells_nobody(app, client, make_staff, file_ticket, notices):
    from service import sdk

    make_staff("supervisor", "quality")
    ticket = sdk.get_ticket(file_ticket()["number"])
    try:
        with sdk.UnitOfWork():
            sdk.notify_staff(ticket, "sla_warning", sdk.SYSTEM)
            raise RuntimeError("the change fails")
    except RuntimeError:
        pass
    assert notices() == []
