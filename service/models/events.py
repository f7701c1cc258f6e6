"""The ticket history: append-only events showing every change.

Every status change, field edit, message, plugin decision and plugin error is
one row. Rows are never updated or deleted; the ORM refuses to (see
``_refuse_change``), and the history API only reads.
"""
from __future__ import annotations

from sqlalchemy import JSON, ForeignKey, Index, String, event
from sqlalchemy.orm import Mapped, mapped_column

from service.extensions import db
from service.models.base import UTCDateTime, utcnow

ACTOR_TYPES = ("staff", "customer", "system", "plugin")


class TicketEvent(db.Model):
    __tablename__ = "ticket_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id"))
    at = mapped_column(UTCDateTime, default=utcnow, nullable=False)
    actor_type: Mapped[str] = mapped_column(String(10))
    actor_id: Mapped[int | None] = mapped_column()
    actor_name: Mapped[str | None] = mapped_column(String(120))
    action: Mapped[str] = mapped_column(String(40))
    from_status: Mapped[str | None] = mapped_column(String(24))
    to_status: Mapped[str | None] = mapped_column(String(24))
    details: Mapped[dict] = mapped_column(JSON, default=dict)

    __table_args__ = (Index("ix_ticket_events_ticket_id_id", "ticket_id", "id"),)


class AppendOnlyError(RuntimeError):
    """Raised when code tries to change or delete a history event."""


@event.listens_for(TicketEvent, "before_update")
@event.listens_for(TicketEvent, "before_delete")
def _refuse_change(mapper, connection, target):
    raise AppendOnlyError("ticket history is append-only")
