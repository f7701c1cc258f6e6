"""Messages on a ticket (public replies and internal notes) and attachments."""
from __future__ import annotations

from sqlalchemy import BigInteger, Boolean, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from service.extensions import db
from service.models.base import UTCDateTime, utcnow

AUTHOR_TYPES = ("staff", "customer", "system", "plugin")


class Message(db.Model):
    __tablename__ = "messages"

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id"), index=True)
    author_type: Mapped[str] = mapped_column(String(10))
    staff_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))
    # Who wrote it when no staff member did: the plugin's name (author_type "plugin").
    author_name: Mapped[str | None] = mapped_column(String(120))
    body: Mapped[str] = mapped_column(Text)
    # Internal notes are for staff only: never on the tracking page or in mail.
    internal: Mapped[bool] = mapped_column(Boolean, default=False)
    # Message-ID of the e-mail that brought or carried this message, so that
    # replies (In-Reply-To, References) find their ticket.
    email_message_id: Mapped[str | None] = mapped_column(String(500), index=True, unique=True)
    created_at = mapped_column(UTCDateTime, default=utcnow, nullable=False)


class Attachment(db.Model):
    __tablename__ = "attachments"

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id"), index=True)
    message_id: Mapped[int | None] = mapped_column(ForeignKey("messages.id"))
    filename: Mapped[str] = mapped_column(String(255))
    content_type: Mapped[str] = mapped_column(String(100))
    size: Mapped[int] = mapped_column(BigInteger)
    sha256: Mapped[str] = mapped_column(String(64))
    # Relative to ATTACHMENT_DIR; files live outside the database.
    storage_key: Mapped[str] = mapped_column(String(200))
    uploaded_by: Mapped[str] = mapped_column(String(10))
    created_at = mapped_column(UTCDateTime, default=utcnow, nullable=False)
