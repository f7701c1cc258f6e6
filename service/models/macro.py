"""Canned replies (macros): a reply text in English and Chinese with
placeholders, optionally with actions on the ticket (a workflow step, a
priority, a department), kept personal or shared.

Who a macro belongs to: ``owner_id`` set - one staff member's own;
``department_id`` set - shared by that department; neither - shared by
everyone. The action columns name what applying it does besides the reply.
"""
from __future__ import annotations

from sqlalchemy import Boolean, CheckConstraint, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from service.extensions import db
from service.models.base import UTCDateTime, utcnow


class Macro(db.Model):
    __tablename__ = "macros"
    # A personal macro is no department's: the two owners never both.
    __table_args__ = (CheckConstraint("owner_id IS NULL OR department_id IS NULL", name="one_owner"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120))
    # Its name in Chinese, for the console in Chinese (None: ``name`` there too).
    name_zh: Mapped[str | None] = mapped_column(String(120))
    body_en: Mapped[str | None] = mapped_column(Text)
    body_zh: Mapped[str | None] = mapped_column(Text)
    owner_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"), index=True)
    department_id: Mapped[int | None] = mapped_column(ForeignKey("departments.id"), index=True)
    # Actions: a workflow action name (service.domain.workflow), a priority, a department.
    set_status: Mapped[str | None] = mapped_column(String(24))
    set_priority: Mapped[str | None] = mapped_column(String(10))
    set_department_id: Mapped[int | None] = mapped_column(ForeignKey("departments.id"))
    active: Mapped[bool] = mapped_column(Boolean, default=True, server_default="1")
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))
    created_at = mapped_column(UTCDateTime, default=utcnow, nullable=False)
    updated_at = mapped_column(UTCDateTime, default=utcnow, nullable=False)
    version: Mapped[int] = mapped_column(Integer, nullable=False, default=1)
    # As on tickets: an UPDATE ... WHERE version = :seen, raised by the use case once per edit.
    __mapper_args__ = {"version_id_col": version, "version_id_generator": False}

    owner = relationship("Staff", foreign_keys=[owner_id])
    department = relationship("Department", foreign_keys=[department_id])
    set_department = relationship("Department", foreign_keys=[set_department_id])

    @property
    def scope(self) -> str:
        """``personal``, ``department`` or ``all``: who may use it."""
        if self.owner_id is not None:
            return "personal"
        return "department" if self.department_id is not None else "all"
