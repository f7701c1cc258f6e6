"""A lost tracking link, found again: by the customer (case number plus the
e-mail or phone on it) or sent by an agent.

A customer who gave only a phone number and closed the confirmation page
had no way back to their case. Now they can ask with the number and their
e-mail or phone: when both match and the case has an e-mail address, its
link is mailed there; never is it shown on the page, and the answer is the
same whatever was asked, so the form tells nobody whether a number exists
or whose it is. A phone-only customer is told to call; the agent who takes
the call sends a new link (which revokes the old ones) and can read it out.
"""
from __future__ import annotations

import re
import secrets
from datetime import timedelta

from sqlalchemy import select

from service.domain.actors import Actor
from service.extensions import db
from service.links import tracking_url
from service.mail.outgoing.notices import mail_link
from service.models import Ticket, TicketEvent
from service.models.base import utcnow
from service.models.ticket import parse_number
from service.usecases import history, tracking
from service.usecases.uow import UnitOfWork

# One mailed link per case in this time, however often it is asked for:
# the form must not become a way to fill someone's mailbox.
COOLDOWN = timedelta(minutes=10)
SENT = "link_sent"


def _digits(phone: str | None) -> str:
    return re.sub(r"\D", "", phone or "")


def _matches(customer, contact: str) -> bool:
    """Whether ``contact`` is the customer's e-mail (any case) or phone (digits alike)."""
    contact = (contact or "").strip()
    if not contact or customer is None:
        return False
    if "@" in contact:
        return bool(customer.email) and customer.email.casefold() == contact.casefold()
    digits = _digits(contact)
    return len(digits) >= 5 and digits == _digits(customer.phone)


def request_link(number: str, contact: str) -> None:
    """A customer asks for the link of case ``number`` with ``contact`` (see
    the module): the link is mailed when they match and the case has an
    e-mail address, at most once per ``COOLDOWN``; otherwise nothing happens.
    Returns nothing either way, on purpose."""
    ticket_id = parse_number((number or "").strip().upper())
    if ticket_id is None:
        return
    with UnitOfWork() as uow:
        ticket = db.session.get(Ticket, ticket_id)
        if ticket is None or not _matches(ticket.customer, contact) or not ticket.customer.email:
            return
        recent = db.session.scalar(select(TicketEvent.id).where(
            TicketEvent.ticket_id == ticket.id, TicketEvent.action == SENT,
            TicketEvent.at > utcnow() - COOLDOWN).limit(1))
        if recent is not None:
            return
        history.record(ticket, Actor.customer(ticket.customer), SENT, by="customer")
        mail_link(ticket, secrets.token_hex(8))
        uow.commit()


def send_new_link(ticket: Ticket, actor: Actor) -> tuple[str, bool]:
    """An agent gives ``ticket``'s customer a new link: a new token (the old
    links stop working), mailed when the customer has an e-mail address.
    Returns the link (to read out on the phone) and whether it was mailed."""
    with UnitOfWork() as uow:
        token = tracking.issue_token(ticket)
        mailed = mail_link(ticket, secrets.token_hex(8))
        history.record(ticket, actor, SENT, by="staff", mailed=mailed)
        uow.commit()
    return tracking_url(token), mailed
