"""Inbound mail whose sender the trusted MTA could not verify (DMARC/SPF
failures in its ``Authentication-Results``) is quarantined, not trusted by
its ``From``; an admin can release it. Also: mail in a wrong charset or with
raw 8-bit headers is stored, never a crash.

Through the real entry points: the SMTP listener (aiosmtpd on loopback), the
``kefu mail take``/``release`` commands and the admin API.
"""
from __future__ import annotations

from email.message import EmailMessage

import pytest
from sqlalchemy import select

from service.extensions import db
from service.mail import cli as mail_cli
from service.models import Customer, Message, QuarantinedMail, Ticket

SUPPORT = "support@kefu.test"
CUSTOMER = "li.lei@example.test"
MTA = "mx.kefu.test"
TRUSTED = {"SUPPORT_ADDRESS": SUPPORT, "MAIL_AUTHSERV_ID": MTA}
DMARC_FAIL = f"{MTA}; dmarc=fail (p=reject dis=none) header.from=example.test"
DMARC_PASS = f"{MTA}; spf=pass smtp.mailfrom=example.test; dkim=pass header.d=example.test; " \
             "dmarc=pass (p=reject) header.from=example.test"


def _tickets():
    return db.session.scalars(select(Ticket).order_by(Ticket.id)).all()


def _quarantine():
    return db.session.scalars(select(QuarantinedMail).order_by(QuarantinedMail.id)).all()


def _messages(number):
    return db.session.scalars(select(Message).join(Ticket).where(Ticket.number == number)).all()


def _raw(mail: EmailMessage, *results: str) -> bytes:
    """``mail`` as SMTP sends it, with an Authentication-Results header per
    ``results`` on top, the first one topmost (as the last MTA prepends it)."""
    body = mail.as_bytes(policy=mail.policy.clone(linesep="\r\n"))
    return b"".join(f"Authentication-Results: {r}\r\n".encode() for r in results) + body


@pytest.fixture
def ticket(send, make_mail):
    """A ticket the customer opened by mail (no verdict: the dev setup)."""
    code, text = send(make_mail(subject="Fridge is warm", body="Since Monday."))
    assert code == 250 and "opened KF-000001" in text, text
    return "KF-000001"


def _forged_reply(make_mail, number, body="Please refund to account 6222 0000 1111."):
    return make_mail(subject=f"Re: [{number}] Fridge is warm", body=body)


@pytest.fixture
def take(app):
    """``take(raw)``: ``kefu mail take`` with ``raw`` on standard input; returns its output."""
    runner = app.test_cli_runner()

    def do(raw: bytes) -> str:
        result = runner.invoke(mail_cli.mail, ["take"], input=raw)
        assert result.exit_code == 0, result.output
        db.session.rollback()
        return result.output.strip()

    return do


# --------------------------------------------------------------- the verdicts

@pytest.mark.parametrize("overrides", [TRUSTED])
def test_dmarc_fail_from_the_trusted_mta_is_quarantined_and_the_ticket_untouched(client, ticket, send, make_mail):
    code, text = send(_raw(_forged_reply(make_mail, ticket), DMARC_FAIL))
    assert code == 250 and "quarantined" in text, text
    assert _messages(ticket) == []
    [held] = _quarantine()
    assert held.reason == ("sender not verified: dmarc=fail (p=reject dis=none) header.from=example.test"
                           f" (by {MTA})")
    assert CUSTOMER in held.sender and held.subject == f"Re: [{ticket}] Fridge is warm" and held.source == "smtp"
    assert len(_tickets()) == 1


@pytest.mark.parametrize("overrides", [TRUSTED])
def test_dmarc_fail_by_kefu_mail_take_is_quarantined(client, ticket, take, make_mail):
    out = take(_raw(_forged_reply(make_mail, ticket), DMARC_FAIL))
    assert out.startswith("quarantined (quarantine #1: sender not verified: dmarc=fail"), out
    assert _messages(ticket) == [] and len(_tickets()) == 1


@pytest.mark.parametrize("overrides", [TRUSTED])
@pytest.mark.parametrize("result", [
    "spf=fail smtp.mailfrom=example.test",
    "spf=hardfail smtp.mailfrom=example.test",
    "dmarc=quarantine header.from=example.test",
    "DMARC=FAIL header.from=example.test",
    "dmarc=fail policy.dmarc=none header.from=example.test",
])
def test_spf_fail_and_other_dmarc_failures_are_quarantined(client, ticket, take, make_mail, result):
    out = take(_raw(_forged_reply(make_mail, ticket), f"{MTA}; {result}"))
    method, verdict = result.split()[0].lower().split("=")
    assert f"sender not verified: {method}={verdict}" in out, out
    assert _messages(ticket) == []


@pytest.mark.parametrize("overrides", [TRUSTED])
def test_a_new_mail_with_dmarc_fail_opens_no_ticket(client, send, make_mail):
    code, text = send(_raw(make_mail(subject="Your account"), DMARC_FAIL))
    assert code == 250 and "quarantined" in text
    assert _tickets() == [] and db.session.scalars(select(Customer)).all() == []


@pytest.mark.parametrize("overrides", [TRUSTED])
def test_dmarc_pass_is_accepted(client, agent, ticket, send, make_mail):
    code, text = send(_raw(_forged_reply(make_mail, ticket, body="Thanks."), DMARC_PASS))
    assert code == 250 and f"replied {ticket}" in text, text
    [message] = _messages(ticket)
    assert message.body == "Thanks." and message.author_type == "customer"
    assert _quarantine() == []


@pytest.mark.parametrize("overrides", [TRUSTED])
@pytest.mark.parametrize("result", [
    # Forwarded mail: SPF fails for the forwarder's relay, DKIM keeps DMARC passing.
    "spf=fail smtp.mailfrom=example.test; dkim=pass header.d=example.test; dmarc=pass header.from=example.test",
    # Softfail ("~all") is the domain owner asking not to act on it.
    "spf=softfail smtp.mailfrom=example.test",
    # A broken signature counts as no signature (RFC 6376 6.3); DMARC decides.
    "dkim=fail header.d=example.test",
    "dmarc=temperror header.from=example.test",
    "dmarc=none header.from=example.test; spf=neutral smtp.mailfrom=example.test",
    "none",
])
def test_verdicts_that_do_not_quarantine(client, ticket, take, make_mail, result):
    out = take(_raw(_forged_reply(make_mail, ticket, body="Thanks."), f"{MTA}; {result}"))
    assert out == f"replied {ticket}"


@pytest.mark.parametrize("overrides", [TRUSTED])
def test_a_forged_pass_below_the_trusted_fail_does_not_help(client, ticket, send, make_mail):
    raw = _raw(_forged_reply(make_mail, ticket), DMARC_FAIL, "evil.example; dmarc=pass header.from=example.test")
    code, text = send(raw)
    assert code == 250 and "quarantined" in text
    assert _messages(ticket) == []
    assert _quarantine()[0].reason.startswith("sender not verified: dmarc=fail")


@pytest.mark.parametrize("overrides", [TRUSTED])
def test_a_forged_pass_with_a_foreign_authserv_id_is_not_trusted(client, ticket, send, make_mail):
    # Were it trusted, its dmarc=pass would outweigh the MTA's spf=fail.
    forged = "evil.example; dmarc=pass header.from=example.test"
    code, text = send(_raw(_forged_reply(make_mail, ticket), f"{MTA}; spf=fail smtp.mailfrom=example.test",
                           forged))
    assert code == 250 and "quarantined" in text
    assert _quarantine()[0].reason.startswith("sender not verified: spf=fail")
    # Alone it is no verdict at all: the mail is taken in as if it had no header.
    code, text = send(_raw(_forged_reply(make_mail, ticket, body="Hello again."), forged))
    assert code == 250 and f"replied {ticket}" in text
    # ... and a foreign fail is not a verdict either (a header any sender can write).
    code, text = send(_raw(_forged_reply(make_mail, ticket, body="Third."),
                           "evil.example; dmarc=fail header.from=example.test"))
    assert code == 250 and f"replied {ticket}" in text
    assert [m.body for m in _messages(ticket)] == ["Hello again.", "Third."]


@pytest.mark.parametrize("overrides", [{**TRUSTED, "MAIL_AUTHSERV_ID": ["mx1.kefu.test", "MX.KEFU.TEST"]},
                                       {**TRUSTED, "MAIL_AUTHSERV_ID": "mx1.kefu.test, mx.kefu.test"}])
def test_several_trusted_authserv_ids(client, ticket, take, make_mail):
    out = take(_raw(_forged_reply(make_mail, ticket), "mx1.kefu.test; spf=pass smtp.mailfrom=example.test",
                    DMARC_FAIL))
    assert "sender not verified: dmarc=fail" in out


@pytest.mark.parametrize("overrides", [{"SUPPORT_ADDRESS": SUPPORT}])
def test_without_authserv_id_only_the_topmost_header_counts(client, ticket, take, make_mail):
    assert "sender not verified: dmarc=fail" in take(
        _raw(_forged_reply(make_mail, ticket), DMARC_FAIL, "evil.example; dmarc=pass"))
    # A fail below the topmost header is the sender's own writing: ignored.
    assert take(_raw(_forged_reply(make_mail, ticket, body="Thanks."), "relay.kefu.test; dmarc=pass",
                     DMARC_FAIL)) == f"replied {ticket}"


@pytest.mark.parametrize("overrides", [{**TRUSTED, "MAIL_QUARANTINE_UNVERIFIED": False}])
def test_the_check_turned_off_accepts_failed_mail(client, ticket, send, make_mail):
    code, text = send(_raw(_forged_reply(make_mail, ticket, body="Accepted anyway."), DMARC_FAIL))
    assert code == 250 and f"replied {ticket}" in text
    assert [m.body for m in _messages(ticket)] == ["Accepted anyway."]


@pytest.mark.parametrize("overrides", [TRUSTED])
def test_mail_without_authentication_results_is_accepted(client, ticket, take, make_mail):
    assert take(_raw(_forged_reply(make_mail, ticket, body="No MTA here."))) == f"replied {ticket}"


# ----------------------------------------------------------------- releasing

@pytest.mark.parametrize("overrides", [TRUSTED])
def test_admin_releases_quarantined_mail_onto_the_ticket(client, admin, agent, ticket, send, make_mail):
    send(_raw(_forged_reply(make_mail, ticket, body="Really me, my provider breaks DKIM."), DMARC_FAIL))
    [held] = _quarantine()
    url = f"/api/v1/admin/mail/quarantine/{held.id}/release"
    assert client.post(url, headers=agent).status_code == 403
    assert client.post(url).status_code == 401
    released = client.post(url, headers=admin)
    assert released.status_code == 200, released.json
    assert released.json == {"action": "replied", "number": ticket, "notes": []}
    db.session.rollback()
    [message] = _messages(ticket)
    assert message.body == "Really me, my provider breaks DKIM." and message.author_type == "customer"
    assert _quarantine() == []
    again = client.post(url, headers=admin)
    assert again.status_code == 404 and again.json["error"]["fields"] == {"mail_id": ["not found"]}


@pytest.mark.parametrize("overrides", [TRUSTED])
def test_release_keeps_every_other_check(client, admin, send, make_mail):
    # The admin vouches for the sender, not for an auto-reply: that stays held.
    send(_raw(make_mail(subject="Out of office", Auto_Submitted="auto-replied"), DMARC_FAIL))
    [held] = _quarantine()
    assert held.reason.startswith("auto-reply")
    refused = client.post(f"/api/v1/admin/mail/quarantine/{held.id}/release", headers=admin)
    assert refused.status_code == 409, refused.json
    assert refused.json["error"]["message"] == "still not taken in: auto-reply: Auto-Submitted: auto-replied"
    db.session.rollback()
    assert [q.id for q in _quarantine()] == [held.id] and _tickets() == []


@pytest.mark.parametrize("overrides", [TRUSTED])
def test_kefu_mail_release_opens_the_ticket(app, client, send, make_mail):
    send(_raw(make_mail(subject="New fridge", body="It hums."), DMARC_FAIL))
    [held] = _quarantine()
    runner = app.test_cli_runner()
    result = runner.invoke(mail_cli.mail, ["release", str(held.id)])
    assert result.exit_code == 0, result.output
    assert result.output.strip() == f"released quarantine #{held.id}: opened KF-000001"
    db.session.rollback()
    [opened] = _tickets()
    assert opened.subject == "New fridge" and opened.customer.email == CUSTOMER and _quarantine() == []
    missing = runner.invoke(mail_cli.mail, ["release", str(held.id)])
    assert missing.exit_code == 1 and f"no quarantined mail {held.id}" in missing.output


# --------------------------------------------------------------- the parser

def test_parse_keeps_comments_and_quotes_out_of_the_structure():
    from service.mail.incoming import auth

    header = ('mx.kefu.test 1; spf=pass (sender; IP is 192.0.2.1 (nested; here)) '
              'smtp.mailfrom="a;b@example.test" ; dkim=pass reason="good; signature" header.d=example.test;'
              'dmarc=fail (p=quarantine) header.from=Example.TEST')
    authserv_id, results = auth.parse(header)
    assert authserv_id == "mx.kefu.test"
    assert [(r.method, r.result) for r in results] == [("spf", "pass"), ("dkim", "pass"), ("dmarc", "fail")]
    assert results[0].properties == {"smtp.mailfrom": "a;b@example.test"}
    assert results[0].comment == "sender; IP is 192.0.2.1 (nested; here)"
    assert results[1].properties == {"reason": "good; signature", "header.d": "example.test"}
    assert results[2].describe() == "dmarc=fail (p=quarantine) header.from=Example.TEST"


@pytest.mark.parametrize("header, expected", [
    ("mx.kefu.test; none", ("mx.kefu.test", [])),
    ('"mx kefu" ; dmarc=pass', ("mx kefu", [("dmarc", "pass")])),
    ("mx.kefu.test; dkim/1=pass header.d=x.test", ("mx.kefu.test", [("dkim", "pass")])),
    # Microsoft 365 leaves out the authserv-id.
    ("spf=fail (sender IP is 192.0.2.1) smtp.mailfrom=x.test; dmarc=fail action=oreject header.from=x.test",
     ("", [("spf", "fail"), ("dmarc", "fail")])),
    ("mx.kefu.test 2; dmarc=fail", None),  # a version kefu does not know
    ("", None),
    ("mx.kefu.test; dmarc=pass (unclosed comment", ("mx.kefu.test", [("dmarc", "pass")])),
    ("mx.kefu.test; =fail; dmarc=", ("mx.kefu.test", [])),
])
def test_parse_edge_cases(header, expected):
    from service.mail.incoming import auth

    parsed = auth.parse(header)
    if expected is None:
        assert parsed is None
    else:
        assert (parsed[0], [(r.method, r.result) for r in parsed[1]]) == expected


# ----------------------------------------------------- a wrong charset, 8-bit

@pytest.mark.parametrize("from_header, name", [
    (b"=?utf-8?q?Li_=FF?= <li.lei@example.test>", "Li \ufffd"),  # invalid UTF-8 in an encoded word
    (b"=?x-bogus?q?Li_=E9?= <li.lei@example.test>", "Li \ufffd"),  # an unknown charset
    (b"\"Li \xff\" <li.lei@example.test>", "Li \ufffd"),  # raw 8-bit, not UTF-8
    (b"\xe6\x9d\x8e\xe9\x9b\xb7 <li.lei@example.test>", "\u674e\u96f7"),  # raw 8-bit UTF-8 is read as such
])
def test_a_sender_name_in_a_wrong_charset_is_stored(client, take, from_header, name):
    raw = (b"From: " + from_header + b"\r\nTo: support@kefu.test\r\nSubject: caf\xe9 \xff\r\n"
           b"Message-ID: <8bit.1@example.test>\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n"
           b"It is caf\xe9 \xff warm.\r\n")
    assert take(raw) == "opened KF-000001"
    [opened] = _tickets()
    assert opened.customer.name == name
    assert (opened.subject, opened.description) == ("caf\ufffd \ufffd", "It is caf\ufffd \ufffd warm.")


def test_8bit_headers_in_quarantined_mail_are_stored(client, take):
    raw = (b"From: =?utf-8?b?/w==?= <ooo@example.test>\r\nAuto-Submitted: auto-replied \xff\r\n"
           b"Subject: =?utf-8?b?/w==?= away \xff\r\n\r\nAway.\r\n")
    assert take(raw).startswith("quarantined (quarantine #1: auto-reply")
    [held] = _quarantine()
    assert "\ufffd" in held.reason and "\ufffd" in held.subject and held.raw == raw


def test_8bit_attachment_names_are_stored(client, agent, take):
    raw = (b"From: li.lei@example.test\r\nSubject: receipt\r\nMIME-Version: 1.0\r\n"
           b"Content-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\nContent-Type: text/plain\r\n\r\nAttached.\r\n"
           b"--b\r\nContent-Type: application/pdf; name=\"=?utf-8?q?r=FF.pdf?=\"\r\n"
           b"Content-Disposition: attachment; filename=\"=?utf-8?q?r=FF.pdf?=\"\r\n\r\n%PDF-1.4\r\n--b--\r\n")
    assert take(raw) == "opened KF-000001"
    files = client.get("/api/v1/tickets/KF-000001/attachments", headers=agent).json
    assert [f["filename"] for f in files] == ["r\ufffd.pdf"]
