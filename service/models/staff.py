"""Staff accounts and their API tokens (both stored hashed)."""
from __future__ import annotations

from sqlalchemy import Boolean, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from service.domain.workflow import FINANCE, ROLES
from service.extensions import db
from service.models.base import UTCDateTime, utcnow


class Staff(db.Model):
    __tablename__ = "staff"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    name: Mapped[str] = mapped_column(String(120))
    role: Mapped[str] = mapped_column(String(20))
    department_id: Mapped[int | None] = mapped_column(ForeignKey("departments.id"))
    password_hash: Mapped[str | None] = mapped_column(String(255))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    # Console sessions carry the version they began with; raising it (sign-out,
    # password change, deactivation) ends every one of them at once.
    session_version: Mapped[int] = mapped_column(Integer, default=1, server_default="1")
    language: Mapped[str] = mapped_column(String(10), default="en")
    timezone: Mapped[str] = mapped_column(String(60), default="Asia/Shanghai")
    created_at = mapped_column(UTCDateTime, default=utcnow, nullable=False)
    # The last console sign-in (None: never, or before kefu recorded it); shown to admins.
    last_sign_in_at = mapped_column(UTCDateTime)
    # Mail for console notices: "each" (one mail per notice) or "none" (the bell only).
    notify_mail: Mapped[str] = mapped_column(String(10), default="each", server_default="each")

    department = relationship("Department", foreign_keys=[department_id])

    def has_role(self, role: str) -> bool:
        """True when this staff member may act as ``role``.

        On the ladder agent < supervisor < admin a role includes those below
        it. ``finance`` is beside the ladder: only finance staff and admins
        have it, and finance staff have none of the ladder's roles.
        """
        if role == FINANCE:
            return self.role in (FINANCE, "admin")
        if self.role not in ROLES:
            return False
        return ROLES.index(self.role) >= ROLES.index(role)


class ApiToken(db.Model):
    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    staff_id: Mapped[int] = mapped_column(ForeignKey("staff.id"), index=True)
    # SHA-256 of the token: tokens are 256-bit random, so a slow hash adds
    # nothing, and a fast one keeps per-request auth cheap.
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    label: Mapped[str] = mapped_column(String(80), default="")
    created_at = mapped_column(UTCDateTime, default=utcnow, nullable=False)
    revoked_at = mapped_column(UTCDateTime)

    staff = relationship("Staff")
