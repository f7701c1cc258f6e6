"""A case as its customer follows it: what was said, proposed and answered, oldest first.

The tracking page and the public API show the customer their case's
messages (never internal notes), and with them what a later step would
otherwise overwrite: every resolution proposed before the current one, and
the customer's own reasons for not accepting one. Staff's reasons for
reopening or cancelling are theirs, not shown here.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select

from service.extensions import db
from service.models import Ticket, TicketEvent
from service.reads.listing import ticket_messages

# History actions that carry the customer's reason for rejecting a resolution:
# a reopen within the window, or the follow-up opened after it.
_REJECTIONS = ("reopen", "followup_opened")


@dataclass(frozen=True)
class Entry:
    """One line of the customer's timeline.

    ``kind``: ``message`` (``author`` customer or staff), ``resolution`` (a
    resolution proposed before the current one, by staff) or ``rejection``
    (the customer's reason for not accepting one). ``followup``: the number
    of the case opened by a late rejection, else None."""

    kind: str
    author: str
    body: str
    at: datetime
    followup: str | None = None


def reply_by(ticket: Ticket) -> datetime | None:
    """When the customer is promised a first answer: the SLA's first-response
    time while the case waits to be confirmed (answering it is confirming
    it), else None."""
    return ticket.first_response_due if ticket.status == "new" else None


def customer_timeline(ticket: Ticket) -> list[Entry]:
    """The entries of ``ticket``'s timeline for its customer, oldest first
    (see the module). The current resolution is not among them: pages show
    it on its own, with the answer buttons."""
    entries = [Entry("message", "customer" if m.author_type == "customer" else "staff", m.body, m.created_at)
               for m in ticket_messages(ticket, include_internal=False)]
    events = db.session.scalars(
        select(TicketEvent).where(TicketEvent.ticket_id == ticket.id,
                                  TicketEvent.action.in_(("resolve", *_REJECTIONS)))
        .order_by(TicketEvent.id)).all()
    resolutions = [e for e in events if e.action == "resolve"]
    if ticket.status in ("resolved", "closed") and resolutions:
        resolutions.pop()  # the current one
    entries += [Entry("resolution", "staff", e.details.get("resolution") or "", e.at) for e in resolutions]
    entries += [Entry("rejection", "customer", e.details.get("reason") or "", e.at, e.details.get("followup"))
                for e in events if e.action in _REJECTIONS and e.actor_type == "customer"]
    # Same-moment entries keep a fixed order: what was proposed before what answered it.
    order = {"resolution": 0, "rejection": 1, "message": 2}
    return sorted(entries, key=lambda e: (e.at, order[e.kind]))
