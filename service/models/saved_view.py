"""Saved queue views: a staff member's named filters and sort, or a shared one."""
from __future__ import annotations

from sqlalchemy import Boolean, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from service.extensions import db
from service.models.base import UTCDateTime, utcnow


class SavedView(db.Model):
    """A queue (``queue``, one of ``service.web.queues.QUEUES``) with the
    query string of its filters and sort (``query``, without the page),
    named by its owner. ``shared`` views are listed for every staff member;
    only supervisors create them (``service.usecases.saved_views``)."""

    __tablename__ = "saved_views"

    id: Mapped[int] = mapped_column(primary_key=True)
    staff_id: Mapped[int] = mapped_column(ForeignKey("staff.id"))
    name: Mapped[str] = mapped_column(String(80))
    queue: Mapped[str] = mapped_column(String(20))
    query: Mapped[str] = mapped_column(String(2000), default="")
    shared: Mapped[bool] = mapped_column(Boolean, default=False, server_default="0")
    created_at = mapped_column(UTCDateTime, default=utcnow, nullable=False)

    owner = relationship("Staff")

    # One staff member's views, and the shared ones, each from an index.
    __table_args__ = (Index("ix_saved_views_staff_id", "staff_id"), Index("ix_saved_views_shared", "shared"))
