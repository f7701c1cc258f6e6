"""Reading inbound mail: machine senders, text from HTML, quoted history, and
``take_in`` called directly (no listener)."""
from __future__ import annotations

from email import policy
from email.parser import BytesParser

import pytest
from sqlalchemy import func, select

from service.extensions import db
from service.mail.incoming import inbound
from service.mail.incoming import text
from service.models import Message, QuarantinedMail, Ticket


def parse(raw: bytes):
    return BytesParser(policy=policy.default).parsebytes(raw)


@pytest.mark.parametrize("headers, reason", [
    (b"Auto-Submitted: auto-replied\r\n", "auto-reply: Auto-Submitted: auto-replied"),
    (b"Auto-Submitted: auto-generated; owner-email=x@y.test\r\n", "auto-reply: Auto-Submitted"),
    (b"Precedence: junk\r\n", "auto-reply: Precedence: junk"),
    (b"Precedence: list\r\n", "auto-reply: Precedence: list"),
    (b"X-Autoreply: yes\r\n", "auto-reply: X-Autoreply header"),
    (b"X-Autorespond: Out of office\r\n", "auto-reply: X-Autorespond header"),
    (b"Return-Path: <>\r\n", "bounce: empty Return-Path <>"),
    (b"Content-Type: multipart/report; report-type=disposition-notification; boundary=x\r\n",
     "bounce: multipart/report (disposition-notification)"),
])
def test_machine_mail_is_recognised(headers, reason):
    msg = parse(b"From: someone@example.test\r\n" + headers + b"Subject: s\r\n\r\nbody\r\n")
    assert text.machine_reason(msg, "someone@example.test").startswith(reason)


@pytest.mark.parametrize("sender", ["MAILER-DAEMON@mx.example.test", "postmaster@example.test"])
def test_mailer_daemon_and_postmaster_are_machines(sender):
    msg = parse(f"From: {sender}\r\nSubject: failure\r\n\r\nbody\r\n".encode())
    assert text.machine_reason(msg, sender) == f"bounce: sent by {sender}"


def test_a_persons_mail_is_not_a_machines():
    msg = parse(b"From: p@example.test\r\nAuto-Submitted: no\r\nPrecedence: normal\r\n"
                b"Return-Path: <p@example.test>\r\nSubject: s\r\n\r\nbody\r\n")
    assert text.machine_reason(msg, "p@example.test") is None


@pytest.mark.parametrize("body, expected", [
    ("Yes, please.\n\nOn Tue, 3 Nov 2026 at 09:12, kefu <support@kefu.test> wrote:\n> Shall we?\n", "Yes, please."),
    ("Yes.\n\nOn Tue, 3 Nov 2026 at 09:12, kefu support <support@kefu.test>\nwrote:\n> Shall we?", "Yes."),
    ("Fine.\n-----Original Message-----\nFrom: kefu\nSent: Monday\n\nold", "Fine."),
    ("Fine.\n________________________________\nFrom: kefu\nSent: Monday", "Fine."),
    ("Fine.\n\nFrom: kefu support <support@kefu.test>\nSent: Monday, 2 November 2026\nTo: me", "Fine."),
    ("好的，谢谢。\n\n在 2026年11月3日 09:12，kefu <support@kefu.test> 写道：\n> 请确认", "好的，谢谢。"),
    ("收到。\n------------------ 原始邮件 ------------------\n发件人: kefu", "收到。"),
    ("> quoted only at the top\nMy answer below.\n> more quote\nAnd more.", "My answer below.\nAnd more."),
    ("> nothing but quote\n> all of it", "> nothing but quote\n> all of it"),
])
def test_quoted_history_is_cut(body, expected):
    assert text.strip_quoted(body) == expected


def test_html_to_text_keeps_paragraphs_and_drops_markup():
    html = ("<html><head><title>t</title><style>p {}</style><script>x()</script></head><body>"
            "<p>Dear team,<br>the <b>fridge</b> &lt;FR-2&gt; is warm.</p><ul><li>one</li><li>two</li></ul>"
            "<blockquote><p>unclosed quote paragraph</blockquote><p>After the quote.</p></body></html>")
    assert text.html_to_text(html) == "Dear team,\nthe fridge <FR-2> is warm.\n\none\ntwo\n\nAfter the quote."


def test_unknown_charset_is_read_not_refused():
    msg = parse(b"From: p@example.test\r\nSubject: s\r\nContent-Type: text/plain; charset=x-no-such\r\n\r\n"
                b"caf\xc3\xa9\r\n")
    assert text.body_text(msg)[0] == "café"


def test_sender_must_be_an_address():
    for header, expected in ((b"Li <li@example.test>", "li@example.test"), (b"li@localhost", None),
                             (b"undisclosed-recipients:;", None), (b"@example.test", None)):
        assert text.sender_of(parse(b"From: " + header + b"\r\n\r\nx"))[1] == expected


def test_mail_without_message_id_is_still_taken_once(app):
    raw = b"From: wu@example.test\r\nSubject: No id\r\n\r\nMy mail client sets no Message-ID.\r\n"
    first = inbound.take_in(raw, "cli")
    assert first.action == "opened"
    assert inbound.take_in(raw, "cli").action == "duplicate"
    stored = db.session.scalar(select(Ticket.email_message_id))
    assert stored.startswith("<") and stored.endswith(f"@inbound.{app.config['MAIL_DOMAIN']}>")


def test_reply_without_body_uses_the_subject_and_long_subjects_are_cut(app):
    subject = "S" * 300
    opened = inbound.take_in(f"From: wu@example.test\r\nSubject: {subject}\r\n\r\n".encode(), "cli")
    ticket = db.session.scalar(select(Ticket))
    assert opened.action == "opened" and ticket.subject == "S" * 200 and ticket.description == subject
    replied = inbound.take_in(f"From: wu@example.test\r\nSubject: Re: [{opened.number}] ok\r\n\r\n".encode(), "cli")
    assert replied.action == "replied"
    assert db.session.scalar(select(Message.body)) == f"Re: [{opened.number}] ok"


@pytest.mark.parametrize("overrides", [{"MAIL_MAX_BYTES": 100}])
def test_too_big_is_checked_before_anything_else(app):
    outcome = inbound.take_in(b"garbage " * 20, "imap")
    assert outcome.action == "quarantined" and outcome.reason.startswith("too big: 160 bytes")
    assert db.session.scalar(select(func.count()).select_from(QuarantinedMail)) == 1


def test_nul_characters_do_not_make_a_mail_unstorable(app):
    raw = (b"From: \"Q\x00R\" <qr@example.test>\r\nSubject: nul\x00here\r\nMessage-ID: <nul.1@example.test>\r\n\r\n"
           b"before\x00after\r\n")
    assert inbound.take_in(raw, "cli").action == "opened"
    ticket = db.session.scalar(select(Ticket))
    assert (ticket.subject, ticket.description, ticket.customer.name) == ("nulhere", "beforeafter", "QR")
    held = inbound.quarantine(raw, "cli", "reason\x00", sender="a\x00b", subject="s\x00")
    assert (held.sender, held.subject, held.reason) == ("ab", "s", "reason")


def test_a_reply_racing_an_agents_change_is_retried_not_quarantined(app, monkeypatch):
    from service.domain.errors import StaleVersion

    opened = inbound.take_in(b"From: wu@example.test\r\nSubject: Kettle\r\n\r\nBroken.\r\n", "cli")
    real, calls = inbound.messages.add_message, []

    def racing(*args, **kwargs):
        calls.append(1)
        if len(calls) == 1:
            raise StaleVersion("the ticket was changed by someone else", {"version": ["stale"]})
        return real(*args, **kwargs)

    monkeypatch.setattr(inbound.messages, "add_message", racing)
    outcome = inbound.take_in(f"From: wu@example.test\r\nSubject: Re: [{opened.number}]\r\n\r\nStill.\r\n".encode(),
                              "cli")
    assert (outcome.action, len(calls)) == ("replied", 2)
    assert db.session.scalar(select(func.count()).select_from(QuarantinedMail)) == 0
