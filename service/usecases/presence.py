"""Presence: who has a ticket open in the console, and whether they are
typing a reply (collisions, issue 16).

The ticket page records its viewer on every render and every poll (about
every 15 seconds); a mark older than ``PRESENCE_SECONDS`` no longer
counts. Rows live in the database so every web process sees them.
"""
from __future__ import annotations

from datetime import timedelta

from flask import current_app
from sqlalchemy import delete, select

from service.domain.errors import ValidationFailed
from service.extensions import db
from service.models import Staff, TicketPresence
from service.models.base import upsert, utcnow
from service.models.presence import PRESENCE_STATES
from service.usecases.uow import UnitOfWork


def _window() -> timedelta:
    return timedelta(seconds=current_app.config["PRESENCE_SECONDS"])


def mark(ticket_id: int, staff_id: int, state: str = "viewing", now=None) -> None:
    """Record that staff member ``staff_id`` has ticket ``ticket_id`` open
    (``state`` "viewing" or "replying", else 422 naming ``state``), and
    forget the ticket's marks that expired. One short transaction (or the
    caller's unit of work: the ticket page marks presence and "seen" in one
    commit); the mark is an upsert, so two tabs of the same person marking
    at the same moment do not collide - the later one wins."""
    if state not in PRESENCE_STATES:
        raise ValidationFailed(f"unknown presence state {state!r}",
                               {"state": [f"must be one of {', '.join(PRESENCE_STATES)}"]})
    now = now or utcnow()
    with UnitOfWork() as uow:
        db.session.execute(delete(TicketPresence).where(TicketPresence.ticket_id == ticket_id,
                                                        TicketPresence.seen_at < now - _window()))
        db.session.execute(upsert(TicketPresence, {"staff_id": staff_id, "ticket_id": ticket_id,
                                                   "state": state, "seen_at": now},
                                  ("staff_id", "ticket_id"), ("state", "seen_at")))
        uow.commit()


def leave(ticket_id: int, staff_id: int) -> None:
    """Forget staff member ``staff_id``'s mark on ticket ``ticket_id`` (the page was closed)."""
    with UnitOfWork() as uow:
        db.session.execute(delete(TicketPresence).where(TicketPresence.ticket_id == ticket_id,
                                                        TicketPresence.staff_id == staff_id))
        uow.commit()


def colleagues(ticket_id: int, staff_id: int, now=None) -> list[tuple[str, str]]:
    """``(name, state)`` of the other staff members whose mark on ticket
    ``ticket_id`` has not expired, those replying first, then by name."""
    now = now or utcnow()
    rows = db.session.execute(
        select(Staff.name, TicketPresence.state).join(Staff, Staff.id == TicketPresence.staff_id)
        .where(TicketPresence.ticket_id == ticket_id, TicketPresence.staff_id != staff_id,
               TicketPresence.seen_at >= now - _window())).all()
    return sorted(((name, state) for name, state in rows), key=lambda r: (r[1] != "replying", r[0]))
