"""The ticket aggregate: one complaint or request on its way through the workflow."""
from __future__ import annotations

from sqlalchemy import BigInteger, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from .base import UTCDateTime, utcnow

KINDS = ("complaint", "service_request", "inquiry", "suggestion")
CHANNELS = ("web", "email", "phone", "api")
PRIORITIES = ("low", "normal", "high", "urgent")


class Ticket(db.Model):
    __tablename__ = "tickets"

    id: Mapped[int] = mapped_column(primary_key=True)
    # Human number (KF-000123), set from the id in the same transaction.
    number: Mapped[str | None] = mapped_column(String(20), unique=True)
    kind: Mapped[str] = mapped_column(String(20))
    channel: Mapped[str] = mapped_column(String(10))
    category_id: Mapped[int] = mapped_column(ForeignKey("categories.id"))
    subject: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text)
    priority: Mapped[str] = mapped_column(String(10), default="normal")
    status: Mapped[str] = mapped_column(String(24), default="new")
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"))
    department_id: Mapped[int | None] = mapped_column(ForeignKey("departments.id"))
    assignee_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))
    # A follow-up ticket points at the ticket whose resolution was rejected late.
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("tickets.id"))

    # What the customer asks for; amount in minor units (cents, fen).
    remedy_text: Mapped[str | None] = mapped_column(Text)
    remedy_amount_minor: Mapped[int | None] = mapped_column(BigInteger)
    remedy_currency: Mapped[str | None] = mapped_column(String(3))
    remedy_decision: Mapped[str | None] = mapped_column(String(20))
    remedy_reason: Mapped[str | None] = mapped_column(Text)

    resolution: Mapped[str | None] = mapped_column(Text)
    reason: Mapped[str | None] = mapped_column(Text)  # last reopen/cancel reason
    reopen_count: Mapped[int] = mapped_column(Integer, default=0)
    customer_tier: Mapped[str | None] = mapped_column(String(20))

    sla_policy: Mapped[str | None] = mapped_column(String(80))
    first_response_due = mapped_column(UTCDateTime)
    resolution_due = mapped_column(UTCDateTime)

    # One timestamp per step of listen -> confirm -> handle -> feed back.
    created_at = mapped_column(UTCDateTime, default=utcnow, nullable=False)
    confirmed_at = mapped_column(UTCDateTime)
    started_at = mapped_column(UTCDateTime)
    waiting_since = mapped_column(UTCDateTime)
    resolved_at = mapped_column(UTCDateTime)
    reopened_at = mapped_column(UTCDateTime)
    closed_at = mapped_column(UTCDateTime)
    cancelled_at = mapped_column(UTCDateTime)
    updated_at = mapped_column(UTCDateTime, default=utcnow, nullable=False)

    # SHA-256 of the secret inside the customer's tracking token.
    tracking_hash: Mapped[str | None] = mapped_column(String(64), unique=True)

    version: Mapped[int] = mapped_column(Integer, nullable=False)
    # UPDATE ... WHERE version = :seen makes a concurrent write fail instead of
    # silently overwriting (optimistic locking). The use cases raise the
    # version themselves, once per change a client can see, so setting the
    # number or a due time in the same transaction does not count twice.
    __mapper_args__ = {"version_id_col": version, "version_id_generator": False}

    # Set on a follow-up ticket in the request that opened it (never stored).
    new_token = None

    customer = relationship("Customer")
    category = relationship("Category")
    department = relationship("Department")
    assignee = relationship("Staff")
    parent = relationship("Ticket", remote_side=[id])

    __table_args__ = (
        Index("ix_tickets_status_id", "status", "id"),
        Index("ix_tickets_customer_id_id", "customer_id", "id"),
        Index("ix_tickets_department_id_id", "department_id", "id"),
        Index("ix_tickets_assignee_id_id", "assignee_id", "id"),
        Index("ix_tickets_resolution_due", "resolution_due"),
    )
