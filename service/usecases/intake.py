"""A caller's case, recorded by an agent: phone, walk-in, fax, e-mail or chat.

The agent opens the ticket for the customer from the console
(``service.web.console_new``). It goes through the same opening as every
other ticket (``opening.create``: the tier decider, the openers, the SLA,
the remedy decision, ``ticket_created``), in one transaction with the
customer it finds or creates and the agent's first internal note.

The customer has no confirmation page to keep their tracking link from, so
when they have an e-mail address the "received" mail (the one the web form
and e-mail channels send, with the link) goes to them whatever the channel.
Their token is not shown to the agent: "send a new tracking link" on the
ticket page (``recovery.send_new_link``) gives one to read out.
"""
from __future__ import annotations

from flask import current_app
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from service.domain.actors import Actor
from service.extensions import db
from service.mail.outgoing.notices import mail_receipt
from service.models import Message, Ticket
from service.models.base import utcnow
from service.reads import lookup
from service.usecases import history, opening
from service.usecases.customers import customer_for_contact
from service.usecases.uow import UnitOfWork


def open_for_caller(data: dict, actor: Actor, channel: str, note: str | None = None,
                    request_key: str | None = None) -> Ticket:
    """Open a ticket an agent (``actor``) records for a caller through
    ``channel``, and return it.

    ``data`` as ``opening.open_ticket`` takes it, already loaded by the
    staff API's ``TicketCreate`` schema: ``customer_id`` (an existing
    customer) or ``contact`` (``name``, ``email``/``phone``, ``language``: the
    customer with that e-mail, else phone, or a new one), ``subject``,
    ``description`` (the customer's words), ``kind``, ``category``,
    ``priority``, ``remedy``. ``note``: the agent's first internal note
    (blank: none). One transaction: nothing is written when any part fails
    (422 naming the field for an unknown customer or code). The customer is
    mailed the receipt with their tracking link when they have an address.

    ``request_key`` (the form's own, one per rendering): the same form sent
    again (a double click) returns the ticket it opened and writes nothing.
    """
    if request_key:
        filed = _filed(request_key)
        if filed is not None:
            return filed
    try:
        return _open(data, actor, channel, note, request_key)
    except IntegrityError:
        # The same form sent alongside won the race: its ticket is the answer.
        filed = _filed(request_key) if request_key else None
        if filed is None:
            raise
        return filed


def _filed(request_key: str) -> Ticket | None:
    return db.session.scalar(select(Ticket).where(Ticket.request_key == request_key))


def _open(data: dict, actor: Actor, channel: str, note: str | None, request_key: str | None) -> Ticket:
    with UnitOfWork() as uow:
        if data.get("customer_id") is not None:
            customer = lookup.customer_by_id(data["customer_id"], field="customer_id", preload=lookup.OPENING)
        else:
            customer = customer_for_contact(data.get("contact") or {})
        # The token is only kept as a hash; the receipt mail carries a link of its own.
        ticket, _token = opening.create(data, actor, channel, customer, sign_token=False, uow=uow,
                                        request_key=request_key)
        note = (note or "").strip()
        if note:
            _first_note(ticket, note, actor, uow)
        # The web form's and e-mail's receipt already goes with ticket_created.
        if channel not in current_app.config["MAIL_RECEIPT_CHANNELS"]:
            mail_receipt(ticket)
        uow.commit()
    return ticket


def _first_note(ticket: Ticket, body: str, actor: Actor, uow: UnitOfWork) -> None:
    message = Message(ticket_id=ticket.id, author_type="staff", staff_id=actor.id, body=body, internal=True,
                      created_at=utcnow())
    db.session.add(message)
    db.session.flush()
    history.record(ticket, actor, "note_added", message_id=message.id)
    uow.emit("message_added", ticket=ticket, message=message, actor=actor)
