"""Mail in over a real SMTP listener (aiosmtpd on loopback), driven by smtplib."""
from __future__ import annotations

import smtplib
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser

import pytest
from sqlalchemy import func, select

from service.extensions import db
from service.models import Customer, QuarantinedMail, Ticket

SUPPORT = "support@kefu.test"
CUSTOMER = "li.lei@example.test"


def _tickets():
    return db.session.scalars(select(Ticket).order_by(Ticket.id)).all()


def _quarantine():
    return db.session.scalars(select(QuarantinedMail).order_by(QuarantinedMail.id)).all()


def _open_by_mail(send, make_mail, **kw):
    code, _ = send(make_mail(**kw))
    assert code == 250
    return _tickets()[-1]


def test_new_mail_opens_an_email_ticket_for_a_new_customer(client, agent, jobs, send, make_mail, mail_log):
    mail = make_mail(subject="Washing machine leaks", body="It leaks since Monday.\n\nLi Lei")
    code, text = send(mail)
    assert code == 250 and "opened KF-000001" in text
    response = client.get("/api/v1/tickets/KF-000001", headers=agent)
    assert response.status_code == 200, response.json
    ticket = response.json
    assert ticket["channel"] == "email" and ticket["status"] == "new"
    assert ticket["subject"] == "Washing machine leaks"
    assert ticket["description"] == "It leaks since Monday.\n\nLi Lei"
    customer = db.session.scalar(select(Customer).where(Customer.email == CUSTOMER))
    assert customer is not None and customer.name == "Li Lei"
    assert db.session.scalar(select(Ticket.email_message_id)) == mail["Message-ID"]
    # The core's "received" notice answers it, threaded under the customer's mail.
    jobs.drain()
    [eml] = mail_log()
    notice = BytesParser(policy=policy.default).parsebytes(eml.read_bytes())
    assert notice["To"].addresses[0].addr_spec == CUSTOMER
    assert "[KF-000001]" in notice["Subject"]
    assert mail["Message-ID"] in notice["References"]


def test_known_sender_keeps_their_customer_record(client, agent, send, make_mail, file_ticket):
    filed = file_ticket(email=CUSTOMER, name="Li Lei (web)")
    send(make_mail(subject="Another question"))
    tickets = _tickets()
    assert len(tickets) == 2 and tickets[0].customer_id == tickets[1].customer_id
    assert filed["number"] == tickets[0].number


def test_reply_with_number_in_subject_is_a_customer_message_and_ends_the_wait(
        client, agent, act, send, make_mail):
    number = _open_by_mail(send, make_mail).number
    act(agent, number, "confirm", department="after_sales")
    act(agent, number, "start")
    act(agent, number, "wait")
    reply = make_mail(subject=f"Re: [{number}] We need your order number",
                      body="The order number is 42-1138.\n\nOn Mon, 2 Nov 2026 at 10:00, kefu support "
                           "<support@kefu.test> wrote:\n> Which order is it?\n")
    code, text = send(reply)
    assert code == 250 and f"replied {number}" in text
    ticket = client.get(f"/api/v1/tickets/{number}", headers=agent).json
    assert ticket["status"] == "in_progress"
    last = client.get(f"/api/v1/tickets/{number}/messages", headers=agent).json[-1]
    assert last["author_type"] == "customer" and last["internal"] is False
    assert last["body"] == "The order number is 42-1138."
    assert len(_tickets()) == 1


def test_reply_found_only_by_in_reply_to_a_kefu_mail(client, agent, jobs, send, make_mail, mail_log):
    number = _open_by_mail(send, make_mail).number
    jobs.drain()
    [eml] = mail_log()
    ours = BytesParser(policy=policy.default).parsebytes(eml.read_bytes())["Message-ID"]
    assert ours.startswith(f"<{number}.")
    code, text = send(make_mail(subject="Re: your mail", body="Thanks, see the photo tomorrow.",
                                In_Reply_To=ours, References=ours))
    assert code == 250 and f"replied {number}" in text
    bodies = [m["body"] for m in client.get(f"/api/v1/tickets/{number}/messages", headers=agent).json]
    assert bodies == ["Thanks, see the photo tomorrow."]
    assert len(_tickets()) == 1


def test_reply_found_by_references_to_the_customers_first_mail(client, agent, send, make_mail):
    first = make_mail()
    send(first)
    code, text = send(make_mail(subject="Forgot to say", body="It is the blue one.",
                                References=f"<other@example.test> {first['Message-ID']}"))
    assert code == 250 and "replied KF-000001" in text


def test_a_stranger_quoting_a_number_gets_their_own_ticket(client, agent, send, make_mail):
    number = _open_by_mail(send, make_mail).number
    code, text = send(make_mail(subject=f"Re: [{number}] hello", body="Let me in.", sender="mallory@example.test",
                                name="Mallory"), sender="mallory@example.test")
    assert code == 250 and "opened KF-000002" in text
    assert client.get(f"/api/v1/tickets/{number}/messages", headers=agent).json == []
    assert _tickets()[-1].subject == "Re: hello"


def test_mail_about_a_closed_ticket_opens_a_new_one(client, agent, supervisor, act, send, make_mail):
    number = _open_by_mail(send, make_mail).number
    act(supervisor, number, "cancel", reason="duplicate")
    code, text = send(make_mail(subject=f"Re: [{number}] still broken", body="Still broken."))
    assert code == 250 and "opened KF-000002" in text
    new = _tickets()[-1]
    assert new.channel == "email" and new.subject == "Re: still broken"
    assert new.description.startswith(f"[follow-up to {number}, which is cancelled]")


def test_auto_reply_opens_nothing_and_sends_nothing(client, agent, jobs, send, make_mail, mail_log):
    number = _open_by_mail(send, make_mail).number
    jobs.drain()
    before = mail_log()
    ours = BytesParser(policy=policy.default).parsebytes(before[0].read_bytes())["Message-ID"]
    code, _ = send(make_mail(subject=f"Out of office: [{number}] received", body="I am away until Monday.",
                             Auto_Submitted="auto-replied", In_Reply_To=ours))
    assert code == 250
    code, _ = send(make_mail(subject="Automatic reply", body="Away.", sender="bob@example.test",
                             Precedence="bulk"), sender="bob@example.test")
    assert code == 250
    jobs.drain()
    assert mail_log() == before
    assert len(_tickets()) == 1
    assert client.get(f"/api/v1/tickets/{number}/messages", headers=agent).json == []
    reasons = [q.reason for q in _quarantine()]
    assert reasons == ["auto-reply: Auto-Submitted: auto-replied", "auto-reply: Precedence: bulk"]


BOUNCE = (
    b"From: Mail Delivery System <MAILER-DAEMON@mx.example.test>\r\n"
    b"To: support@kefu.test\r\n"
    b"Subject: Undelivered Mail Returned to Sender\r\n"
    b"Message-ID: <bounce.1@mx.example.test>\r\n"
    b"MIME-Version: 1.0\r\n"
    b"Content-Type: multipart/report; report-type=delivery-status; boundary=\"b1\"\r\n"
    b"\r\n"
    b"--b1\r\n"
    b"Content-Type: text/plain\r\n\r\n"
    b"This is the mail system. Your message could not be delivered.\r\n"
    b"--b1\r\n"
    b"Content-Type: message/delivery-status\r\n\r\n"
    b"Reporting-MTA: dns; mx.example.test\r\n\r\n"
    b"Final-Recipient: rfc822; x@example.test\r\nAction: failed\r\nStatus: 5.1.1\r\n"
    b"--b1--\r\n"
)


def test_bounce_from_mailer_daemon_opens_nothing(client, jobs, send, mail_log):
    code, _ = send(BOUNCE, sender="")
    assert code == 250
    jobs.drain()
    assert _tickets() == [] and mail_log() == []
    [held] = _quarantine()
    assert held.reason.startswith("bounce:") and "MAILER-DAEMON" in held.sender
    assert held.raw.startswith(b"Return-Path: <>")


@pytest.mark.parametrize("raw, reason", [
    (b"no headers at all, only text\r\n", "no usable sender address"),
    (b"Subject: who am I\r\nMessage-ID: <a@b.test>\r\n\r\nno From header\r\n", "no usable sender address"),
    (b"From: not an address\r\nSubject: hi\r\n\r\nbody\r\n", "no usable sender address"),
    (b"From: x@example.test\r\nMessage-ID: <e@x.test>\r\n\r\n   \r\n", "empty: no subject and no body"),
])
def test_malformed_mail_is_quarantined_with_the_reason(client, send, raw, reason):
    code, _ = send(raw, sender="x@example.test")
    assert code == 250
    assert _tickets() == []
    [held] = _quarantine()
    assert held.reason.startswith(reason) and held.source == "smtp"
    assert held.raw.endswith(raw)


@pytest.mark.parametrize("overrides", [{"SUPPORT_ADDRESS": SUPPORT, "MAIL_MAX_BYTES": 2000}])
def test_too_big_mail_is_quarantined_and_far_too_big_is_refused(client, smtp, send, make_mail):
    code, text = send(make_mail(body=("x" * 70 + "\n") * 36))
    assert code == 250, text
    [held] = _quarantine()
    assert held.reason.startswith("too big:") and "MAIL_MAX_BYTES" in held.reason
    assert "li.lei@example.test" in held.sender and held.subject == "My order is late"
    assert len(held.raw) > 2500
    # Over twice the limit the listener refuses it during DATA: the sender is told.
    code, text = send(make_mail(body=("x" * 70 + "\n") * 80))
    assert code == 552, text
    assert _tickets() == [] and len(_quarantine()) == 1


def test_attachment_is_kept(client, agent, send, make_mail):
    mail = make_mail(subject="Broken screen", body="Photo of the receipt attached.")
    mail.add_attachment(b"\x89PNG\r\n\x1a\nfake image", maintype="image", subtype="png", filename="receipt.png")
    mail.add_attachment(b"order 42\n", maintype="text", subtype="plain", filename="order.txt")
    # Labelled octet-stream, as many clients do: the file name tells the type.
    mail.add_attachment(b"%PDF-1.4 manual", maintype="application", subtype="octet-stream", filename="manual.pdf")
    code, text = send(mail)
    assert code == 250 and "opened KF-000001" in text
    files = client.get("/api/v1/tickets/KF-000001/attachments", headers=agent).json
    assert sorted((f["filename"], f["content_type"]) for f in files) == [
        ("manual.pdf", "application/pdf"), ("order.txt", "text/plain"), ("receipt.png", "image/png")]
    png = next(f for f in files if f["filename"] == "receipt.png")
    download = client.get(f"/api/v1/tickets/KF-000001/attachments/{png['id']}", headers=agent)
    assert download.data == b"\x89PNG\r\n\x1a\nfake image"
    ticket = client.get("/api/v1/tickets/KF-000001", headers=agent).json
    assert ticket["description"] == "Photo of the receipt attached."
    assert _quarantine() == []


def test_refused_attachment_keeps_the_mail_and_says_so(client, agent, send, make_mail):
    mail = make_mail(subject="See the program", body="The installer is attached.")
    mail.add_attachment(b"MZ\x90\x00", maintype="application", subtype="octet-stream", filename="setup.exe")
    code, text = send(mail)
    assert code == 250 and "opened KF-000001" in text
    assert client.get("/api/v1/tickets/KF-000001/attachments", headers=agent).json == []
    [note] = client.get("/api/v1/tickets/KF-000001/messages", headers=agent).json
    assert note["internal"] is True and "setup.exe" in note["body"]
    [held] = _quarantine()
    assert held.reason.startswith("taken in as KF-000001, but attachment 'setup.exe'")
    assert b"setup.exe" in held.raw


def test_the_same_message_id_twice_is_one_ticket(client, send, make_mail):
    mail = make_mail()
    assert send(mail)[0] == 250
    code, text = send(mail)
    assert code == 250 and "duplicate KF-000001" in text
    reply = make_mail(subject="Re: [KF-000001] more", body="More detail.")
    send(reply)
    send(reply)
    assert len(_tickets()) == 1
    assert db.session.scalar(select(func.count()).select_from(Ticket)) == 1
    from service.models import Message
    assert db.session.scalar(select(func.count()).select_from(Message)) == 1


def test_rcpt_to_another_address_is_refused(smtp):
    with smtplib.SMTP(smtp.host, smtp.port, timeout=30) as client:
        client.ehlo("client.example.test")
        client.mail(CUSTOMER)
        code, text = client.rcpt("sales@kefu.test")
        assert code == 550 and b"sales@kefu.test" in text
        assert client.rcpt("SUPPORT@kefu.test")[0] == 250
    assert _tickets() == []


@pytest.mark.parametrize("overrides", [{"SUPPORT_ADDRESS": None}])
def test_without_support_address_any_recipient_is_taken(client, send, make_mail):
    code, text = send(make_mail(), to=["anyone@kefu.test"])
    assert code == 250 and "opened" in text


def test_a_crash_while_taking_in_quarantines_the_mail(client, send, make_mail, monkeypatch):
    from service.mail.incoming import inbound

    def broken(*args, **kwargs):
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(inbound.opening, "open_ticket", broken)
    code, text = send(make_mail(subject="Help"))
    assert code == 250 and "quarantined" in text
    [held] = _quarantine()
    assert held.reason == "error: RuntimeError: disk on fire" and held.source == "smtp"
    assert _tickets() == []


def test_html_only_mail_becomes_text(client, agent, send):
    msg = EmailMessage()
    msg["From"] = f"Han Meimei <{CUSTOMER}>"
    msg["To"] = SUPPORT
    msg["Subject"] = "冰箱不制冷"
    msg["Message-ID"] = "<html.1@example.test>"
    msg.set_content("<html><head><style>p{color:red}</style></head><body><p>冰箱买了三天就不制冷了。</p>"
                    "<p>请尽快处理 &amp; 回复。</p><div class=\"gmail_quote\">On Mon someone wrote:"
                    "<blockquote>old text</blockquote></div></body></html>", subtype="html")
    code, _ = send(msg)
    assert code == 250
    ticket = client.get("/api/v1/tickets/KF-000001", headers=agent).json
    assert ticket["description"] == "冰箱买了三天就不制冷了。\n\n请尽快处理 & 回复。"
    assert db.session.scalar(select(Customer.language)) == "zh_CN"


def test_kefus_own_mail_coming_back_opens_nothing(client, jobs, send, make_mail, mail_log):
    number = _open_by_mail(send, make_mail).number
    jobs.drain()
    [eml] = mail_log()
    # A notice delivered back to the support address (a customer record with
    # that address, a forwarding rule): as sent, and with its markers stripped.
    assert send(eml.read_bytes().replace(b"\n", b"\r\n"), sender="")[0] == 250
    stripped = make_mail(subject=f"[{number}] We received your request", sender=SUPPORT, name="kefu support")
    assert send(stripped, sender=SUPPORT)[0] == 250
    jobs.drain()
    assert len(_tickets()) == 1 and mail_log() == [eml]
    assert [q.reason.split(":")[0] for q in _quarantine()] == ["auto-reply", "loop"]
