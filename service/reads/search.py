"""The console's global search: one box over tickets' numbers, subjects and
text (description and messages, internal notes included: staff search) and
their customers' names, e-mail addresses and phone numbers.

Literal, case-insensitive text (``LIKE`` with the wildcards escaped, as in
``service.reads.listing``), on SQLite and PostgreSQL alike; bounded: one
page of at most ``size`` tickets, newest first, and whether more follow.
"""
from __future__ import annotations

import re

from sqlalchemy import exists, func, or_, select

from service.extensions import db
from service.models import Customer, Message, Ticket
from service.models.ticket import parse_number
from service.reads.listing import escape_like

MAX_QUERY = 200  # characters: a search, not a document


def exact_number(q: str) -> int | None:
    """The ticket id when ``q`` is a whole ticket number (``KF-000123``, any
    case), else None: the search then opens that ticket directly."""
    return parse_number(q.strip())


def search_tickets(q: str, page: int, size: int) -> tuple[list[Ticket], bool]:
    """Page ``page`` (1-based) of the tickets ``q`` finds, newest first, and
    whether a next page follows. A query of digits also finds the ticket of
    that id."""
    stmt = select(Ticket).where(_matches(q)).order_by(Ticket.id.desc())
    rows = db.session.scalars(stmt.offset((page - 1) * size).limit(size + 1)).unique().all()
    return rows[:size], len(rows) > size


def count_tickets(q: str, cap: int) -> int:
    """How many tickets ``q`` finds, counted up to ``cap + 1``: an answer
    above ``cap`` means "more than ``cap``". Bounded because a text search
    reads every ticket it cannot rule out; the first thousand matches are
    enough to say how big the result is."""
    found = select(Ticket.id).where(_matches(q)).limit(cap + 1).subquery()
    return db.session.scalar(select(func.count()).select_from(found))


def _matches(q: str):
    q = q.strip()[:MAX_QUERY]
    pattern = f"%{escape_like(q.lower())}%"
    like = lambda col: col.ilike(pattern, escape="\\")
    contact = [like(Customer.name), like(Customer.email), like(Customer.phone)]
    digits = re.sub(r"[\s()+\-]", "", q)
    if len(digits) >= 5 and digits.isdigit():
        # A number read out on the phone has no spaces or dashes; the stored one may.
        bare = Customer.phone
        for sign in (" ", "-", "+", "(", ")"):
            bare = func.replace(bare, sign, "")
        contact.append(bare.like(f"%{digits}%"))
    customers = select(Customer.id).where(or_(*contact))
    in_messages = exists().where(Message.ticket_id == Ticket.id, like(Message.body))
    matches = [like(Ticket.subject), like(Ticket.description), Ticket.customer_id.in_(customers), in_messages]
    ticket_id = exact_number(q) or (int(q) if q.isdigit() and 0 < int(q) < 2**31 else None)
    if ticket_id:
        matches.append(Ticket.id == ticket_id)
    return or_(*matches)
