"""``kefu mail ...``: the SMTP listener, a test mail, feeding one mail, the quarantine."""
from __future__ import annotations

from email.message import EmailMessage
from email.utils import formatdate, make_msgid, parseaddr

import click
from flask import current_app
from flask.cli import with_appcontext


@click.group("mail")
def mail():
    """E-mail: receive (SMTP listener, IMAP poll job), test sending, quarantine, release."""


@mail.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True, help="address to listen on")
@click.option("--port", default=2525, show_default=True, type=click.IntRange(0, 65535))
@with_appcontext
def serve_command(host, port):
    """Receive mail for SUPPORT_ADDRESS over SMTP until Ctrl-C or SIGTERM."""
    from service.mail.incoming.server import serve

    def ready(listener, _stopped):
        support = current_app.config.get("SUPPORT_ADDRESS") or "any address"
        click.echo(f"kefu mail listener on {listener.host}:{listener.port} for {support}; Ctrl-C stops it")

    try:
        serve(current_app._get_current_object(), host, port, ready=ready)
    except OSError as exc:
        raise click.ClickException(f"cannot listen on {host}:{port}: {exc}") from exc
    click.echo("stopped")


def build_test_mail(address: str, lang: str) -> EmailMessage:
    """The ``test`` notice to ``address`` in ``lang`` (no ticket, so no number)."""
    from service.mail.outgoing import compose

    subject, text, html = compose.render("test", compose.mail_language(lang))
    message = EmailMessage()
    message["Subject"] = subject
    message["From"] = current_app.config["MAIL_FROM"]
    message["To"] = address
    message["Date"] = formatdate(localtime=False)
    message["Message-ID"] = make_msgid(domain=current_app.config["MAIL_DOMAIN"])
    message["Auto-Submitted"] = "auto-generated"  # no autoresponder answers it
    message.set_content(text)
    message.add_alternative(html, subtype="html")
    return message


@mail.command("test")
@click.argument("address")
@click.option("--lang", default="en", show_default=True, type=click.Choice(["en", "zh"]))
@with_appcontext
def test_command(address, lang):
    """Send a test mail to ADDRESS (or write it to MAIL_LOG_DIR without SMTP_HOST)."""
    from service.mail.outgoing.send import deliver

    spec = parseaddr(address)[1]
    if not spec or "@" not in spec or " " in spec or spec != address.strip():
        raise click.BadParameter(f"{address!r} is not an e-mail address", param_hint="ADDRESS")
    try:
        where = deliver(build_test_mail(spec, lang))
    except OSError as exc:  # smtplib errors are OSErrors: refused, timed out, rejected
        raise click.ClickException(f"sending failed: {type(exc).__name__}: {exc}") from exc
    click.echo(f"test mail to {spec}: {where}")


@mail.command("take")
@click.argument("file", type=click.File("rb"), default="-")
@with_appcontext
def take_command(file):
    """Take in one raw mail from FILE (default: standard input), e.g. from an MTA's pipe."""
    from service.mail.incoming.inbound import take_in_or_quarantine

    raw = file.read(int(current_app.config["MAIL_MAX_BYTES"]) * 2 + 1)
    outcome = take_in_or_quarantine(raw, "cli")
    click.echo(f"{outcome.action} {outcome.number or ''}".rstrip()
               + (f" (quarantine #{outcome.quarantine_id}: {outcome.reason})" if outcome.quarantine_id else ""))
    for note in outcome.notes or []:
        click.echo(f"note: {note}", err=True)


@mail.command("release")
@click.argument("mail_id", type=click.IntRange(1, 2**31 - 1))
@with_appcontext
def release_command(mail_id):
    """Take in quarantined mail MAIL_ID whose sender you vouch for (e.g. held
    as "sender not verified"), and remove it from the quarantine."""
    from service.domain.errors import KefuError
    from service.mail.incoming.inbound import release_quarantined

    try:
        outcome = release_quarantined(mail_id)
    except KefuError as exc:
        raise click.ClickException(exc.message) from exc
    click.echo(f"released quarantine #{mail_id}: {outcome.action} {outcome.number or ''}".rstrip())
    for note in outcome.notes or []:
        click.echo(f"note: {note}", err=True)


@mail.command("quarantine")
@click.option("--limit", default=50, show_default=True, type=click.IntRange(1, 10_000))
@with_appcontext
def quarantine_command(limit):
    """List quarantined mails, newest first: id, received, sender, subject, reason."""
    from sqlalchemy import select

    from service.extensions import db
    from service.models import QuarantinedMail

    rows = db.session.execute(
        select(QuarantinedMail.id, QuarantinedMail.received_at, QuarantinedMail.sender,
               QuarantinedMail.subject, QuarantinedMail.reason)
        .order_by(QuarantinedMail.id.desc()).limit(limit)).all()
    if not rows:
        click.echo("the mail quarantine is empty")
        return
    for row in rows:
        received = row.received_at.strftime("%Y-%m-%d %H:%M:%S") if row.received_at else "?"
        click.echo(f"{row.id}\t{received}\t{row.sender or '-'}\t{row.subject or '-'}\t{row.reason}")
    if len(rows) == limit:
        click.echo(f"(the newest {limit}; --limit shows more)", err=True)

