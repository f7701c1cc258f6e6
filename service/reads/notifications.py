"""Reading staff notices and seen marks: the bell's count, the list, the
queue rows' "customer replied" and "unread" marks."""
from __future__ import annotations

from sqlalchemy import and_, func, not_, or_, select
from sqlalchemy.orm import aliased

from service.extensions import db
from service.models import Message, Notification, Ticket, TicketEvent, TicketView

PAGE = 50


def unread_count(staff) -> int:
    """How many of ``staff``'s notices are unread: one COUNT on the
    (staff_id, read_at) index, cheap enough for every console page. 0 for
    no staff member."""
    if staff is None:
        return 0
    return db.session.scalar(select(func.count(Notification.id)).where(
        Notification.staff_id == staff.id, Notification.read_at.is_(None))) or 0


def notices(staff, limit: int = PAGE, before: int | None = None, unread_only: bool = False) -> list[Notification]:
    """``staff``'s own notices, newest first, at most ``limit``, with their
    tickets loaded; ``before``: only older than that notice id (the next page)."""
    from sqlalchemy.orm import joinedload

    stmt = (select(Notification).options(joinedload(Notification.ticket))
            .where(Notification.staff_id == staff.id).order_by(Notification.id.desc()).limit(limit))
    if before is not None:
        stmt = stmt.where(Notification.id < before)
    if unread_only:
        stmt = stmt.where(Notification.read_at.is_(None))
    return list(db.session.scalars(stmt))


def row_flags(staff, ticket_ids: list[int]) -> dict[int, dict]:
    """``{ticket_id: {"customer_replied": bool, "unread": bool}}`` for
    ``staff`` and ``ticket_ids``, in one query (a correlated subquery per
    mark, each on a per-ticket index). ``customer_replied``: the latest
    public message is the customer's and came after ``staff`` last opened
    the ticket (or they never did); ``unread``: another person (a colleague
    or the customer) wrote or did something on it since then. The system's
    and plugins' own events (SLA targets set, a tier decided, an escalation
    step) do not count: they touch most open tickets, and a mark every row
    carries tells nobody anything. Tickets with neither mark are left out."""
    if staff is None or not ticket_ids:
        return {}
    # The subqueries read their own aliases and correlate on the ticket only:
    # the outer query joins the latest public message too.
    inner = aliased(Message)
    seen = (select(TicketView.seen_at).where(TicketView.staff_id == staff.id, TicketView.ticket_id == Ticket.id)
            .correlate(Ticket).scalar_subquery())
    last_public = (select(inner.id).where(inner.ticket_id == Ticket.id, inner.internal.is_(False))
                   .order_by(inner.id.desc()).limit(1).correlate(Ticket).scalar_subquery())
    others_message = (select(func.max(inner.created_at))
                      .where(inner.ticket_id == Ticket.id,
                             or_(inner.staff_id.is_(None), inner.staff_id != staff.id))
                      .correlate(Ticket).scalar_subquery())
    others_event = (select(func.max(TicketEvent.at))
                    .where(TicketEvent.ticket_id == Ticket.id, TicketEvent.actor_type.in_(("staff", "customer")),
                           not_(and_(TicketEvent.actor_type == "staff", TicketEvent.actor_id == staff.id)))
                    .correlate(Ticket).scalar_subquery())
    rows = db.session.execute(
        select(Ticket.id, seen, Message.author_type, Message.created_at, others_message, others_event)
        .outerjoin(Message, Message.id == last_public)
        .where(Ticket.id.in_(list(ticket_ids)))).all()
    flags = {}
    for ticket_id, seen_at, author_type, public_at, message_at, event_at in rows:
        replied = author_type == "customer" and (seen_at is None or public_at > seen_at)
        latest = max((t for t in (message_at, event_at) if t is not None), default=None)
        unread = latest is not None and (seen_at is None or latest > seen_at)
        if replied or unread:
            flags[ticket_id] = {"customer_replied": replied, "unread": unread}
    return flags
