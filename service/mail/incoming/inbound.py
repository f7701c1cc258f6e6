"""Mail in: one raw message becomes a ticket, a message on a ticket, or a
quarantine row - never nothing.

``take_in`` is the whole decision; the SMTP listener (``server``) and the
IMAP poller (``imap``) call ``take_in_or_quarantine``, which adds the
safety net: whatever goes wrong, the raw mail ends up in ``mail_quarantine``
with the reason.

Choices made here:

* **A forged sender is not believed.** When the MTA in front of kefu
  checked the mail and its ``Authentication-Results`` say DMARC or SPF
  failed (see ``auth`` for which headers count and which results), the mail
  is quarantined ("sender not verified: ..."): otherwise anyone could write
  onto a customer's ticket by putting the customer's address in From.
  ``MAIL_QUARANTINE_UNVERIFIED`` turns this off; mail without a trusted
  verdict is taken in. An admin who knows the mail is genuine releases it
  (``release_quarantined``), which skips only this check.
* **Machines are never answered.** Auto-replies and bounces (see
  ``text.machine_reason``) are quarantined with the reason; they never open
  a ticket, so kefu never mails them back and no loop can start.
* **Threading.** A mail belongs to a ticket when its In-Reply-To/References
  name a Message-ID kefu stored (the mail that opened the ticket, or one
  that added a message) or one of kefu's own Message-IDs, or else when its
  subject carries ``[KF-000123]``. Only the ticket's own customer (same
  address) can write onto it this way: a stranger quoting a number gets a
  ticket of their own instead.
* **Closed or cancelled tickets are not reopened by mail.** The mail opens
  a new ticket (the customer gets a new number), whose description starts
  with a line naming the old one.
* **Idempotent.** The Message-ID is stored on the ticket or message it
  made; the same Message-ID again is answered ``duplicate`` and changes
  nothing. A mail without a Message-ID gets one made from its bytes, so a
  redelivered copy is still recognised.
* **Text is stored as text.** Header and body bytes that are not valid in
  their charset become U+FFFD, never lone surrogates (which the email
  package uses for undecodable bytes and no database can store).
* **Attachments** are stored after the ticket or message (their own
  transactions, ``messages.store_attachment`` and its limits). A refused
  file does not lose the mail: the ticket gets an internal note saying
  which file and why, and the raw mail is kept in the quarantine so staff
  can still get the file.
"""
from __future__ import annotations

import hashlib
import io
import logging
import mimetypes
import re
from dataclasses import dataclass
from email import policy
from email.parser import BytesParser
from email.utils import parseaddr

from flask import current_app
from sqlalchemy import delete, select

from service.domain.actors import SYSTEM, Actor
from service.domain.errors import Conflict, KefuError, NotFound, StaleVersion
from service.domain.language import written_language
from service.domain.workflow import FINAL_STATUSES
from service.extensions import db
from service.mail.incoming import auth, text
from service.mail.outgoing import compose
from service.models import Message, QuarantinedMail, Ticket
from service.models.ticket import parse_number
from service.usecases import messages, opening
from service.usecases.uow import UnitOfWork

log = logging.getLogger("kefu.mail")

_MSGID = re.compile(r"<[^<>\s]{1,498}>")
_SURROGATE = re.compile("[\ud800-\udfff]")


@dataclass
class Outcome:
    """What became of one mail.

    ``action``: ``opened`` (a new ticket), ``replied`` (a message on a
    ticket), ``duplicate`` (seen before; nothing changed) or
    ``quarantined``. ``number`` names the ticket, ``reason`` says why a
    mail was quarantined, ``notes`` list refused attachments.
    """

    action: str
    number: str | None = None
    message_id: int | None = None
    quarantine_id: int | None = None
    reason: str | None = None
    notes: list[str] | None = None


def quarantine(raw: bytes, source: str, reason: str, sender: str | None = None,
               subject: str | None = None) -> QuarantinedMail:
    """Keep ``raw`` in ``mail_quarantine`` with ``reason``; commits (and first
    rolls back whatever the caller's session had open). Errors propagate:
    a caller that cannot quarantine must not report the mail as taken."""
    db.session.rollback()
    with UnitOfWork() as uow:
        row = QuarantinedMail(source=(source or "?")[:20], sender=_clean(sender)[:320] or None,
                              subject=_clean(subject)[:500] or None, reason=_clean(reason) or "unknown", raw=raw)
        db.session.add(row)
        uow.commit()
    log.warning("mail from %s quarantined: %s", row.sender or "?", row.reason)
    return row


def take_in_or_quarantine(raw: bytes, source: str) -> Outcome:
    """``take_in``, but an unexpected error quarantines the raw mail with the
    error instead of propagating. Raises only when even the quarantine
    cannot be written (then the mail must stay with its sender)."""
    try:
        return take_in(raw, source)
    except Exception as exc:  # the safety net: nothing accepted may be lost
        log.exception("taking in a mail from %s failed", source)
        db.session.rollback()
        row = quarantine(raw, source, f"error: {type(exc).__name__}: {exc}"[:2000])
        return Outcome("quarantined", quarantine_id=row.id, reason=row.reason)


def take_in(raw: bytes, source: str) -> Outcome:
    """Take in one raw RFC 5322 mail that came by ``source`` (smtp, imap, cli).

    Quarantines mail that is too big (``MAIL_MAX_BYTES``), unparseable,
    without a usable sender, whose sender the trusted MTA found forged
    (``auth``; unless ``MAIL_QUARANTINE_UNVERIFIED`` is off), without
    subject and body, or sent by a machine (auto-reply, bounce). Otherwise
    adds it to its ticket as a public customer message, or opens a ticket
    (channel ``email``) for the sender, who becomes a customer if unknown;
    a mail for a closed or cancelled ticket opens a new one. Each ticket or
    message is one transaction through the use cases (retried when an
    agent changed the ticket at the same moment); returns an ``Outcome``.
    """
    def hold(reason, sender=None, subject=None):
        row = quarantine(raw, source, reason, sender, subject)
        return Outcome("quarantined", quarantine_id=row.id, reason=row.reason)

    return _take_in(raw, source, hold, verify_sender=True)


def release_quarantined(mail_id: int) -> Outcome:
    """Take in quarantined mail ``mail_id`` as an admin who vouches for its
    sender, then remove it from the quarantine; returns the ``Outcome``
    (``opened``, ``replied``, or ``duplicate`` when it was taken in before).

    Only the sender verification is skipped: a mail that another check
    still refuses (an auto-reply, too big, no usable From) raises
    ``Conflict`` (409) naming the reason and stays where it is, unchanged.
    ``NotFound`` (404) for an unknown id.
    """
    row = db.session.get(QuarantinedMail, mail_id)
    if row is None:
        raise NotFound(f"no quarantined mail {mail_id}", {"mail_id": ["not found"]})
    raw, source = bytes(row.raw), row.source

    def refuse(reason, sender=None, subject=None):
        db.session.rollback()
        raise Conflict(f"still not taken in: {_clean(reason)}", {"mail_id": ["still refused"]})

    outcome = _take_in(raw, source, refuse, verify_sender=False)
    with UnitOfWork() as uow:
        # Another admin may have released or removed it meanwhile: gone is gone.
        db.session.execute(delete(QuarantinedMail).where(QuarantinedMail.id == mail_id))
        uow.commit()
    log.info("quarantined mail %s released: %s %s", mail_id, outcome.action, outcome.number or "")
    return outcome


def _take_in(raw: bytes, source: str, hold, verify_sender: bool) -> Outcome:
    """``take_in``'s decision; ``hold(reason, sender, subject)`` answers each
    refusal (quarantine it, or refuse a release)."""
    limit = current_app.config["MAIL_MAX_BYTES"]
    if len(raw) > limit:
        sender, subject = _head(raw)
        return hold(f"too big: {len(raw)} bytes, the limit (MAIL_MAX_BYTES) is {limit}", sender, subject)
    try:
        msg = BytesParser(policy=policy.default).parsebytes(raw)
        name, sender = text.sender_of(msg)
        subject = _clean(" ".join(str(msg.get("Subject", "")).split()))
        name = _clean(name) or None
    except Exception as exc:  # the parser is lenient; header access can still fail
        return hold(f"unparseable: {type(exc).__name__}: {exc}"[:500])
    if not msg.keys():
        return hold("unparseable: no header lines")
    machine = text.machine_reason(msg, sender)
    if machine:
        return hold(machine, sender or str(msg.get("From", ""))[:320] or None, subject)
    if sender and sender.lower() in _own_addresses():
        return hold(f"loop: sent from kefu's own address {sender}", sender, subject)
    if not sender:
        return hold("no usable sender address (From)", str(msg.get("From", ""))[:320] or None, subject)
    if verify_sender and current_app.config.get("MAIL_QUARANTINE_UNVERIFIED", True):
        unverified = auth.unverified_reason(msg, auth.trusted_ids(current_app.config.get("MAIL_AUTHSERV_ID")))
        if unverified:
            return hold(unverified, sender, subject)
    try:
        body, body_part = text.body_text(msg)
        body = _clean(body).strip()
    except Exception as exc:  # a broken MIME part: keep the mail, say what broke
        return hold(f"unparseable body: {type(exc).__name__}: {exc}"[:500], sender, subject)
    if not body and not subject:
        return hold("empty: no subject and no body", sender, subject)

    mid = _message_id(msg, raw)
    seen = _seen(mid)
    if seen:
        return Outcome("duplicate", number=seen)
    for attempt in range(3):
        ticket, old = _find_ticket(msg, subject, sender)
        try:
            if ticket is not None:
                message = messages.add_message(ticket, body or subject, Actor.customer(ticket.customer),
                                               email_message_id=mid)
                outcome = Outcome("replied", number=ticket.number, message_id=message.id)
                author = Actor.customer(ticket.customer)
            else:
                ticket, outcome, author = _open(msg, name, sender, subject, body, mid, old)
            break
        except StaleVersion:
            # An agent changed the ticket meanwhile: look again, with fresh rows.
            db.session.rollback()
            if attempt == 2:
                raise
        except KefuError as exc:
            fields = "; ".join(f"{k}: {', '.join(v)}" for k, v in exc.fields.items())
            return hold(f"refused: {exc.message}" + (f" ({fields})" if fields else ""), sender, subject)
    outcome.notes = _store_attachments(ticket, msg, body_part, author) or None
    if outcome.notes:
        quarantine(raw, source, f"taken in as {ticket.number}, but " + "; ".join(outcome.notes),
                   sender, subject)
    return outcome


def _own_addresses() -> set[str]:
    config = current_app.config
    found = (parseaddr(config.get(key) or "")[1].lower() for key in ("MAIL_FROM", "SUPPORT_ADDRESS"))
    return {a for a in found if "@" in a}


def _clean(value: str | None) -> str:
    """``value`` storable in either database: without NUL (PostgreSQL text
    cannot hold it) and without lone surrogates (neither can store them).

    The email package keeps bytes it could not decode as surrogates
    (surrogateescape): they are turned back into bytes and read as UTF-8, so
    raw 8-bit UTF-8 comes out right and anything else becomes U+FFFD.
    """
    value = (value or "").replace("\x00", "")
    try:
        return value.encode("utf-8", "surrogateescape").decode("utf-8", "replace")
    except UnicodeEncodeError:  # a surrogate that stands for no byte
        return _SURROGATE.sub("\ufffd", value)


def _head(raw: bytes) -> tuple[str | None, str | None]:
    """Sender and subject from the header alone (for the quarantine list), or Nones."""
    try:
        msg = BytesParser(policy=policy.default).parsebytes(raw[:65536], headersonly=True)
        return str(msg.get("From", ""))[:320] or None, " ".join(str(msg.get("Subject", "")).split()) or None
    except Exception:  # only a label for the list: the raw mail is kept either way
        return None, None


def _open(msg, name, sender, subject, body, mid, old: Ticket | None):
    """Open a ticket for this mail; ``old``: the closed ticket it answers."""
    number_tag = _subject_number_pattern()
    subject = (" ".join(number_tag.sub(" ", subject).split()) or body.split("\n", 1)[0].strip()[:80]
               or "(no subject)")
    description = body or subject
    if old is not None:
        description = f"[follow-up to {old.number}, which is {old.status}]\n\n{description}"
    language = str(msg.get("Content-Language", "")).lower()
    zh = language.startswith("zh") or written_language(subject, body) == "zh_CN"
    data = {"subject": subject[:200], "description": description, "email_message_id": mid,
            "contact": {"name": name or sender, "email": sender, "language": "zh_CN" if zh else "en"}}
    ticket, _token = opening.open_ticket(data, Actor("customer", name=name or sender), channel="email")
    return ticket, Outcome("opened", number=ticket.number), Actor.customer(ticket.customer)


def _store_attachments(ticket: Ticket, msg, body_part, actor: Actor) -> list[str]:
    """Store each attached file; return a note for each one refused (and
    leave an internal note on the ticket listing them)."""
    notes = []
    for filename, content_type, data in text.attachments(msg, body_part):
        filename, content_type = _clean(filename) or "attachment", _clean(content_type)
        if content_type == "application/octet-stream":
            # Many mail clients label every file so; the name says more.
            content_type = mimetypes.guess_type(filename)[0] or content_type
        try:
            messages.store_attachment(ticket, filename, content_type, io.BytesIO(data), actor)
        except KefuError as exc:
            reasons = "; ".join(r for v in exc.fields.values() for r in v)
            notes.append(f"attachment {filename!r} ({content_type}, {len(data)} bytes) refused: "
                         f"{exc.message}" + (f" ({reasons})" if reasons else ""))
    if notes:
        messages.add_message(ticket, "E-mail attachments not kept (the raw mail is in the mail quarantine):\n"
                             + "\n".join(f"- {n}" for n in notes), SYSTEM, internal=True)
    return notes


def _message_id(msg, raw: bytes) -> str:
    """The mail's Message-ID, or one made from its bytes when it has none
    (or an unusable one), so that a redelivery is still recognised."""
    found = _MSGID.findall(_clean(str(msg.get("Message-ID", ""))))
    if found:
        return found[0]
    return f"<{hashlib.sha256(raw).hexdigest()[:40]}@inbound.{current_app.config['MAIL_DOMAIN']}>"


def _seen(mid: str) -> str | None:
    """The number of the ticket that already took in Message-ID ``mid``, else None."""
    ticket_id = db.session.scalar(select(Ticket.id).where(Ticket.email_message_id == mid).limit(1))
    if ticket_id is None:
        ticket_id = db.session.scalar(select(Message.ticket_id).where(Message.email_message_id == mid).limit(1))
    return db.session.get(Ticket, ticket_id).number if ticket_id is not None else None


def _subject_number_pattern():
    prefix = re.escape(current_app.config["TICKET_PREFIX"])
    return re.compile(rf"\[\s*({prefix}-\d{{1,10}})\s*\]", re.IGNORECASE)


def _find_ticket(msg, subject: str, sender: str) -> tuple[Ticket | None, Ticket | None]:
    """``(open ticket to add to, closed ticket answered)`` for this mail.

    Tried in order: Message-IDs kefu stored (In-Reply-To, then References
    newest first), kefu's own Message-IDs, the subject's ``[KF-...]``. A
    ticket of another customer does not count; a closed or cancelled one
    comes back second, for a new ticket to name.
    """
    replied = _clean(str(msg.get("In-Reply-To", "")))
    references = _clean(str(msg.get("References", "")))
    ids = list(dict.fromkeys(_MSGID.findall(replied) + _MSGID.findall(references)[::-1]))[:50]
    candidates: list[int] = []
    if ids:
        rows = db.session.execute(select(Ticket.id, Ticket.email_message_id)
                                  .where(Ticket.email_message_id.in_(ids))).all()
        rows += db.session.execute(select(Message.ticket_id, Message.email_message_id)
                                   .where(Message.email_message_id.in_(ids))).all()
        by_id = {mid: ticket_id for ticket_id, mid in rows}
        candidates += [by_id[i] for i in ids if i in by_id]
    numbers = compose.numbers_in_ids(replied) + compose.numbers_in_ids(references)[::-1]
    numbers += _subject_number_pattern().findall(subject)
    candidates += [n for n in (parse_number(x) for x in numbers) if n is not None]
    closed = None
    for ticket_id in dict.fromkeys(candidates):
        ticket = db.session.get(Ticket, ticket_id)
        if ticket is None or (ticket.customer.email or "").lower() != sender.lower():
            continue
        if ticket.status in FINAL_STATUSES:
            closed = closed or ticket
            continue
        return ticket, None
    return None, closed


def remove_quarantined(mail_id: int) -> None:
    """Remove quarantined mail ``mail_id`` once dealt with; ``NotFound`` (404)."""
    with UnitOfWork() as uow:
        row = db.session.get(QuarantinedMail, mail_id)
        if row is None:
            raise NotFound(f"no quarantined mail {mail_id}", {"mail_id": ["not found"]})
        db.session.delete(row)
        uow.commit()
