"""Responsible departments: the answer to the "confirm" step."""
from __future__ import annotations

from sqlalchemy import Boolean, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from service.extensions import db
from service.models.base import UTCDateTime, utcnow


class Department(db.Model):
    __tablename__ = "departments"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(120))
    name_zh: Mapped[str | None] = mapped_column(String(120))
    # A deactivated department is no longer offered for routing; tickets and
    # staff already in it keep it.
    active: Mapped[bool] = mapped_column(Boolean, default=True, server_default="1")
    # The supervisor hears about escalations and approves what agents may not.
    supervisor_id: Mapped[int | None] = mapped_column(
        ForeignKey("staff.id", use_alter=True, name="fk_departments_supervisor_id_staff")
    )
    created_at = mapped_column(UTCDateTime, default=utcnow, nullable=False)

    supervisor = relationship("Staff", foreign_keys=[supervisor_id], post_update=True)
