"""Fixtures for mail in: a real aiosmtpd listener on loopback, a sender, the mail log."""
from __future__ import annotations

import smtplib
from email.message import EmailMessage
from email.utils import make_msgid
from pathlib import Path

import pytest

from service.extensions import db
from service.mail.incoming import server

SUPPORT = "support@kefu.test"
CUSTOMER = "li.lei@example.test"


@pytest.fixture
def overrides():
    return {"SUPPORT_ADDRESS": SUPPORT}


@pytest.fixture
def smtp(app):
    """The kefu SMTP listener on 127.0.0.1 and a free port; stopped afterwards."""
    listener = server.start(app, "127.0.0.1", 0)
    try:
        yield listener
    finally:
        listener.stop()


def _make_mail(subject="My order is late", body="Hello, order 42 has not arrived.", sender=CUSTOMER,
              name="Li Lei", **headers) -> EmailMessage:
    """A plain-text mail to the support address; ``headers`` use _ for -."""
    msg = EmailMessage()
    msg["From"] = f"{name} <{sender}>" if name else sender
    msg["To"] = SUPPORT
    if subject is not None:
        msg["Subject"] = subject
    msg["Message-ID"] = make_msgid(domain="example.test")
    for key, value in headers.items():
        del msg[key.replace("_", "-")]
        msg[key.replace("_", "-")] = value
    msg.set_content(body)
    return msg


@pytest.fixture
def make_mail():
    """``make_mail(subject=..., body=..., sender=..., name=..., **headers)``: a
    plain-text mail from the customer to the support address."""
    return _make_mail


@pytest.fixture
def send(smtp):
    """``send(message_or_bytes, sender=..., to=[...])`` over SMTP; returns the
    server's answer to DATA (code, text)."""

    def do(message, sender=CUSTOMER, to=(SUPPORT,)):
        # SMTP lines end in CRLF; smtplib fixes line ends of str data only.
        raw = message.as_bytes(policy=message.policy.clone(linesep="\r\n")) \
            if isinstance(message, EmailMessage) else message
        with smtplib.SMTP(smtp.host, smtp.port, timeout=30) as client:
            client.ehlo("client.example.test")
            client.mail(sender)
            for rcpt in to:
                code, text = client.rcpt(rcpt)
                assert code == 250, (code, text)
            code, text = client.data(raw)
        # The listener stored the mail before it answered: the test thread's
        # session must not answer from what it had cached before.
        db.session.rollback()
        return code, text.decode()

    return do


@pytest.fixture
def mail_log(app):
    """``mail_log()``: the .eml files kefu has written to MAIL_LOG_DIR so far, oldest first."""

    def files():
        folder = Path(app.config["MAIL_LOG_DIR"])
        return sorted(folder.glob("*.eml"), key=lambda p: (p.stat().st_mtime_ns, p.name)) if folder.exists() else []

    return files
