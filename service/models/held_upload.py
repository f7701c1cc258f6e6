"""Files kept from a reply that was refused (a stale version, an illegal
step, a guard), so that sending it again does not mean choosing them again.

A browser cannot refill a file input, so the refused page offers the files
it already received as "kept" boxes; each names a row here, owned by the
staff member who sent it, for one ticket. The bytes sit in the attachment
store under the row's ``storage_key`` until the reply is sent (they become
attachments) or ``HELD_UPLOAD_HOURS`` pass (the sweep deletes them).
"""
from __future__ import annotations

from sqlalchemy import BigInteger, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from service.extensions import db
from service.models.base import UTCDateTime, utcnow


class HeldUpload(db.Model):
    __tablename__ = "held_uploads"

    id: Mapped[int] = mapped_column(primary_key=True)
    staff_id: Mapped[int] = mapped_column(ForeignKey("staff.id"))
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id"), index=True)
    filename: Mapped[str] = mapped_column(String(255))
    content_type: Mapped[str] = mapped_column(String(100))
    size: Mapped[int] = mapped_column(BigInteger)
    sha256: Mapped[str] = mapped_column(String(64))
    storage_key: Mapped[str] = mapped_column(String(200))
    # Indexed: the sweep deletes by age.
    created_at = mapped_column(UTCDateTime, default=utcnow, nullable=False, index=True)
