"""Reading tickets: filtered, searched, cursor-paginated lists (newest first)."""
from __future__ import annotations

import base64
import binascii
import functools

from sqlalchemy import bindparam, or_, select

from service.domain.errors import NotFound, ValidationFailed
from service.domain.workflow import OPEN_STATUSES
from service.extensions import db
from service.hooks.isolation import core_connection
from service.models import Attachment, Customer, Message, Ticket, TicketEvent
from service.models.base import utcnow
from service.models.ticket import parse_number
from service.reads.listed import ListedTicket, listing_select
from service.reads.lookup import (
    SHOWING,
    category_by_code,
    customer_read,
    department_by_code,
    keep_preloaded,
)


def encode_cursor(ticket_id: int) -> str:
    """Opaque cursor pointing after the ticket with ``ticket_id``."""
    return base64.urlsafe_b64encode(f"t{ticket_id}".encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> int:
    """The ticket id inside ``cursor``; 422 naming ``cursor`` when it is not one of ours."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        if not raw.startswith("t"):
            raise ValueError
        value = int(raw[1:])
        if not 0 <= value < 2**31:  # ids are 32-bit; larger would overflow the query (500)
            raise ValueError
        return value
    except (ValueError, binascii.Error, UnicodeDecodeError):
        raise ValidationFailed("malformed cursor", {"cursor": ["not a cursor from a previous page"]}) from None


def escape_like(text: str) -> str:
    """``text`` as a LIKE pattern of literal characters (escape character ``\\``)."""
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")




def filtered_tickets(filters: dict, stmt=None):
    """``stmt`` (default ``select(Ticket)``; any select from ``tickets``) with
    ``filters`` applied (see ``list_tickets``), unordered. Beside the API's
    filters, lists of alternatives already resolved to ids and codes (the
    console's queue filters): ``category_ids``, ``department_ids``,
    ``channels``, ``tiers`` and ``assignees`` (staff ids; None in the list
    stands for "nobody", the unassigned)."""
    stmt = select(Ticket) if stmt is None else stmt
    if filters.get("status"):
        stmt = stmt.where(Ticket.status.in_(filters["status"]))
    if filters.get("priority"):
        stmt = stmt.where(Ticket.priority.in_(filters["priority"]))
    if filters.get("kind"):
        stmt = stmt.where(Ticket.kind.in_(filters["kind"]))
    if filters.get("category"):
        stmt = stmt.where(Ticket.category_id == category_by_code(filters["category"]).id)
    if filters.get("department"):
        stmt = stmt.where(Ticket.department_id == department_by_code(filters["department"]).id)
    if filters.get("assignee") is not None:
        stmt = stmt.where(Ticket.assignee_id == filters["assignee"])
    if filters.get("unassigned"):
        stmt = stmt.where(Ticket.assignee_id.is_(None))
    if filters.get("customer") is not None:
        stmt = stmt.where(Ticket.customer_id == filters["customer"])
    if filters.get("overdue") is not None:
        late = Ticket.status.in_(OPEN_STATUSES) & (Ticket.resolution_due < utcnow())
        stmt = stmt.where(late if filters["overdue"] else ~late | Ticket.resolution_due.is_(None))
    # Several values of one filter are alternatives (OR); filters combine (AND).
    # The console's queue filters send ids and codes already resolved.
    if filters.get("category_ids"):
        stmt = stmt.where(Ticket.category_id.in_(filters["category_ids"]))
    if filters.get("department_ids"):
        stmt = stmt.where(Ticket.department_id.in_(filters["department_ids"]))
    if filters.get("channels"):
        stmt = stmt.where(Ticket.channel.in_(filters["channels"]))
    if filters.get("tiers"):
        stmt = stmt.where(Ticket.customer_tier.in_(filters["tiers"]))
    if filters.get("assignees"):
        ids = [a for a in filters["assignees"] if a is not None]
        nobody = None in filters["assignees"]  # "nobody" is a value of its own: the unassigned
        clause = Ticket.assignee_id.in_(ids) if ids else None
        if nobody:
            clause = Ticket.assignee_id.is_(None) if clause is None else clause | Ticket.assignee_id.is_(None)
        stmt = stmt.where(clause)
    if filters.get("created_from"):
        stmt = stmt.where(Ticket.created_at >= filters["created_from"])
    if filters.get("created_to"):
        stmt = stmt.where(Ticket.created_at < filters["created_to"])
    if filters.get("q"):
        q = filters["q"].strip()
        pattern = f"%{escape_like(q.lower())}%"
        matches = [col.ilike(pattern, escape="\\") for col in (Ticket.subject, Ticket.description)]
        ticket_id = parse_number(q) or (int(q) if q.isdigit() and 0 < int(q) < 2**31 else None)
        if ticket_id:  # a number (KF-000123) or its digits finds that ticket too
            matches.append(Ticket.id == ticket_id)
        stmt = stmt.where(or_(*matches))
    return stmt


def list_tickets(filters: dict, limit: int, cursor: str | None = None) -> tuple[list[ListedTicket], str | None]:
    """One page of tickets matching ``filters``, newest first, and the next cursor.

    Keyset pagination on the id (ids grow with creation time), so a deep
    page costs the same as the first. Filters: ``status``, ``priority``,
    ``kind`` (lists), ``category`` and ``department`` (codes), ``assignee``
    and ``customer`` (ids), ``unassigned`` (bool), ``overdue`` (bool),
    ``created_from`` / ``created_to`` (datetimes), ``q`` (text in number,
    subject, description). The tickets are ``ListedTicket`` rows (what a
    list shows, in one query), not ORM objects.
    """
    filtered = filtered_tickets(filters, listing_select()) if filters else None
    # Plain column rows: read past the ORM (isolation.core_connection).
    rows, last = _keyset_page(filtered, _plain_ticket_page, Ticket, limit, cursor,
                              execute=core_connection(db.session).execute)
    return [ListedTicket.of(row) for row in rows], encode_cursor(last.id) if last is not None else None


def _keyset_page(filtered, plain, model, limit: int, cursor: str | None, execute=None):
    """One keyset page, newest (highest id) first: ``(rows, last)``, where
    ``last`` is the page's last row when there is a next page (else None).
    ``filtered``: the statement to page, or None for the plain list, whose
    statement ``plain(limit, after)`` builds once per page size. ``execute``
    runs it (default ``db.session.execute``, which entity rows need)."""
    after = decode_cursor(cursor) if cursor else None
    stmt = (plain(limit, after is not None) if filtered is None
            else _paged(filtered, model, limit, after is not None))
    rows = (execute or db.session.execute)(stmt, {} if after is None else {"after": after}).all()
    return rows[:limit], rows[limit - 1] if len(rows) > limit else None


# Reused statements keep their memoized cache key: SQLAlchemy then neither
# rebuilds nor re-walks them (both cost more than SQLite's own work on a page).
@functools.lru_cache(maxsize=256)
def _plain_ticket_page(limit: int, after: bool):
    return _paged(listing_select(), Ticket, limit, after)


@functools.lru_cache(maxsize=256)
def _plain_customer_page(extra: tuple, limit: int, after: bool):
    return _paged(select(Customer, *extra).where(Customer.merged_into_id.is_(None)), Customer, limit, after)


def _paged(stmt, model, limit: int, after: bool):
    """``stmt`` as one keyset page: newest (highest id) first, ``limit + 1``
    rows (the last tells whether there is a next page), and with ``after``
    only ids below the bound parameter ``after``."""
    if after:
        stmt = stmt.where(model.id < bindparam("after"))
    return stmt.order_by(model.id.desc()).limit(limit + 1)


def list_customers(q: str | None, limit: int, cursor: str | None = None) -> tuple[list[Customer], str | None]:
    """One page of customers, newest first; ``q`` is literal text, case-insensitive,
    in name, e-mail, phone or external reference. Records merged into another
    are left out (each still answers ``GET /customers/{id}`` with its
    ``merged_into_id``), as on the console's list."""
    extra, names = customer_read(SHOWING)  # the plugins' customer_columns, in the same query
    filtered = None
    if q:
        pattern = f"%{escape_like(q.lower())}%"
        filtered = select(Customer, *extra).where(Customer.merged_into_id.is_(None), or_(*(
            col.ilike(pattern, escape="\\") for col in (Customer.name, Customer.email, Customer.phone,
                                                          Customer.external_ref))))
    rows, last = _keyset_page(filtered, functools.partial(_plain_customer_page, extra), Customer, limit, cursor)
    return ([keep_preloaded(row[0], names, row[1:]) for row in rows],
            encode_cursor(last[0].id) if last is not None else None)


def ticket_history(ticket: Ticket) -> list[TicketEvent]:
    """Every history event of ``ticket``, oldest first."""
    return db.session.scalars(
        select(TicketEvent).where(TicketEvent.ticket_id == ticket.id).order_by(TicketEvent.id)
    ).all()


def ticket_messages(ticket: Ticket, include_internal: bool) -> list:
    """The ticket's messages, oldest first; internal notes only for staff."""
    stmt = select(Message).where(Message.ticket_id == ticket.id)
    if not include_internal:
        stmt = stmt.where(Message.internal.is_(False))
    return db.session.scalars(stmt.order_by(Message.id)).all()


def ticket_attachments(ticket: Ticket) -> list[Attachment]:
    """The ticket's attachments, oldest first."""
    return db.session.scalars(select(Attachment).where(Attachment.ticket_id == ticket.id)
                              .order_by(Attachment.id)).all()


def ticket_attachment(ticket: Ticket, attachment_id: int) -> Attachment:
    """Attachment ``attachment_id`` of ``ticket``; ``NotFound`` when it belongs elsewhere."""
    attachment = db.session.get(Attachment, attachment_id)
    if attachment is None or attachment.ticket_id != ticket.id:
        raise NotFound(f"no attachment {attachment_id} on {ticket.number}")
    return attachment
