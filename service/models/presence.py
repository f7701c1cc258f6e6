"""Who has a ticket open in the console right now (collisions).

One row per staff member and ticket, refreshed by the page's poll; rows
older than ``PRESENCE_SECONDS`` no longer count (and are pruned on write).
Kept in the database, not in a process's memory, so every web process of
a deployment sees every colleague.
"""
from __future__ import annotations

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from service.extensions import db
from service.models.base import UTCDateTime, utcnow

PRESENCE_STATES = ("viewing", "replying")


class TicketPresence(db.Model):
    __tablename__ = "ticket_presence"

    staff_id: Mapped[int] = mapped_column(ForeignKey("staff.id", ondelete="CASCADE"), primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id", ondelete="CASCADE"), primary_key=True,
                                           index=True)
    # "viewing" or "replying" (text typed in the reply box).
    state: Mapped[str] = mapped_column(String(10), default="viewing")
    seen_at = mapped_column(UTCDateTime, default=utcnow, nullable=False)
