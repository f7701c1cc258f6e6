"""Notices to staff (the console's bell and its mail) and when each staff
member last opened a ticket (for "unread" and "customer replied" marks)."""
from __future__ import annotations

from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from service.extensions import db
from service.models.base import UTCDateTime, utcnow

# What a notice is about; each has a translated sentence in the console and a mail.
NOTICE_KINDS = ("customer_replied", "customer_rejected", "bad_survey_answer", "assigned",
                "sla_warning", "sla_breach", "sla_takeover")
# staff.notify_mail: a mail for each notice, or none (the console's bell only).
MAIL_PREFERENCES = ("each", "none")


class Notification(db.Model):
    """One notice to one staff member, written after the change it tells of
    has committed. ``actor`` is who caused it, as a display name (a
    customer's or colleague's name; empty for the system). ``read_at``:
    seen in the console (or the ticket opened); ``emailed_at``: its mail
    went out (never set when the staff member takes no mail)."""

    __tablename__ = "notifications"

    id: Mapped[int] = mapped_column(primary_key=True)
    staff_id: Mapped[int] = mapped_column(ForeignKey("staff.id"))
    ticket_id: Mapped[int | None] = mapped_column(ForeignKey("tickets.id"))
    kind: Mapped[str] = mapped_column(String(40))
    actor: Mapped[str | None] = mapped_column(Text)
    # A plugin's own words for the mail (e.g. a survey's answer); not shown in the console.
    detail: Mapped[str | None] = mapped_column(Text)
    created_at = mapped_column(UTCDateTime, default=utcnow, nullable=False)
    read_at = mapped_column(UTCDateTime)
    emailed_at = mapped_column(UTCDateTime)

    ticket = relationship("Ticket")
    staff = relationship("Staff")

    # The bell counts (staff_id, read_at IS NULL) on every console page: one index range.
    __table_args__ = (Index("ix_notifications_staff_id_read_at", "staff_id", "read_at"),
                      Index("ix_notifications_staff_id_id", "staff_id", "id"))


class TicketView(db.Model):
    """When ``staff_id`` last opened ticket ``ticket_id`` in the console."""

    __tablename__ = "ticket_views"

    # The pair is the key: one row per staff member and ticket, upserted.
    staff_id: Mapped[int] = mapped_column(ForeignKey("staff.id"), primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id"), primary_key=True)
    seen_at = mapped_column(UTCDateTime, default=utcnow, nullable=False)
