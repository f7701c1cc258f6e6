"""Tickets as lists and reads show them: plain objects from one SELECT of the shown columns.

A page of ORM tickets cost five mapped objects per row (the ticket and its
joined category, customer, department and assignee) and the ORM's
bookkeeping for each; a list only shows them. ``listing_select`` selects the
columns the API's ``TicketOut`` dumps, with the four names it shows joined in,
and each row becomes a ``ListedTicket``: the same attributes, read-only in
spirit, not attached to any session (changing one saves nothing).
"""
from __future__ import annotations

import functools
from collections import namedtuple
from typing import NamedTuple

from sqlalchemy import bindparam, select

from service.domain.errors import NotFound
from service.extensions import db
from service.hooks.isolation import core_connection
from service.models import Category, Customer, Department, Staff, Ticket
from service.models.ticket import format_number, parse_number

# The ticket columns a listed ticket carries: what ``TicketOut`` shows.
SHOWN = (
    "id", "kind", "channel", "subject", "description", "priority", "status", "customer_id",
    "department_id", "assignee_id", "parent_id", "remedy_text", "remedy_amount_minor",
    "remedy_currency", "remedy_decision", "remedy_reason", "remedy_approver", "resolution",
    "reason", "reopen_count", "customer_tier", "tags", "sla_policy", "first_response_due",
    "resolution_due", "first_responded_at", "created_at", "confirmed_at", "started_at", "waiting_since",
    "resolved_at", "reopened_at", "closed_at", "cancelled_at", "updated_at", "version",
)


class CodeRef(NamedTuple):
    """A category or department as a listed ticket shows it."""

    code: str


class PersonRef(NamedTuple):
    """A customer or assignee as a listed ticket shows it."""

    id: int
    name: str


_Row = namedtuple("_Row", SHOWN + ("category_code", "customer_name", "department_code", "assignee_name"))


class ListedTicket(_Row):
    """One row of a ticket list, with the attributes of ``Ticket`` that lists
    show; ``category``/``department`` have ``.code``, ``customer``/``assignee``
    have ``.id`` and ``.name`` (``department``/``assignee`` may be None).

    A named tuple of the SELECT's columns (made at C speed); what a view adds
    for its viewer (``allowed_actions``) goes in its ``__dict__``."""

    @classmethod
    def of(cls, row) -> ListedTicket:
        """The listed ticket of one ``listing_select`` row."""
        return cls._make(row)

    @property
    def category(self) -> CodeRef:
        return CodeRef(self.category_code)

    @property
    def customer(self) -> PersonRef:
        return PersonRef(self.customer_id, self.customer_name)

    @property
    def department(self) -> CodeRef | None:
        return CodeRef(self.department_code) if self.department_code is not None else None

    @property
    def assignee(self) -> PersonRef | None:
        return PersonRef(self.assignee_id, self.assignee_name) if self.assignee_name is not None else None

    @property
    def number(self) -> str:
        """The human number, e.g. KF-000123 (as ``Ticket.number``)."""
        return format_number(self.id)

    def __repr__(self) -> str:
        return f"<ListedTicket {self.number} {self.status}>"


@functools.cache
def listing_select():
    """``SELECT`` of the shown columns and the four joined names, unfiltered
    and unordered (built once: statements are immutable, and a reused one
    keeps its memoized cache key)."""
    table = Ticket.__table__
    return (
        select(*(table.c[name] for name in SHOWN), Category.code.label("category_code"),
               Customer.name.label("customer_name"), Department.code.label("department_code"),
               Staff.name.label("assignee_name"))
        .select_from(table)
        .join(Category.__table__, Category.id == table.c.category_id)
        .join(Customer.__table__, Customer.id == table.c.customer_id)
        .outerjoin(Department.__table__, Department.id == table.c.department_id)
        .outerjoin(Staff.__table__, Staff.id == table.c.assignee_id)
    )


@functools.cache
def _shown_by_id():
    return listing_select().where(Ticket.__table__.c.id == bindparam("id"))


def shown_ticket(number: str) -> ListedTicket:
    """The ticket numbered ``number`` as a list shows it (one query, no ORM
    object), else ``NotFound``. For reads that only show it; plugins' hooks
    get ORM tickets (``lookup.ticket_by_number``)."""
    ticket_id = parse_number(number)
    row = (core_connection(db.session).execute(_shown_by_id(), {"id": ticket_id}).first()
           if ticket_id is not None else None)
    if row is None:
        raise NotFound(f"no ticket {number}")
    return ListedTicket.of(row)
