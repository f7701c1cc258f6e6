"""relationship_health's tables for key accounts (issue 18, items 3-4): who
owns a customer's account, the notices an owner gets, and each customer's
care state (the lock and record of proactive care tickets).

Their schema is in ``migrations/relationship_health_0002_owners_care.py``.
"""
from __future__ import annotations

from sqlalchemy import JSON, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from service import sdk
from service.sdk import UTCDateTime, utcnow


class AccountOwner(sdk.Model):
    """The staff member who owns a customer's account (one per customer):
    they get the care tickets and the notices about the customer."""

    __tablename__ = "account_owners"

    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id", ondelete="CASCADE"), primary_key=True)
    staff_id: Mapped[int] = mapped_column(ForeignKey("staff.id", ondelete="CASCADE"))
    assigned_at = mapped_column(UTCDateTime, default=utcnow, nullable=False)
    assigned_by: Mapped[int | None] = mapped_column(Integer)  # staff id of the supervisor

    __table_args__ = (Index("ix_account_owners_staff_id", "staff_id"),)


class OwnerNotice(sdk.Model):
    """Something an owner should know about one of their customers, shown in
    their notice list and mailed once. The text is kept as a key and its
    parameters and translated when read, in the reader's language."""

    __tablename__ = "account_owner_notices"

    id: Mapped[int] = mapped_column(primary_key=True)
    # What happened, once: "ticket:<id>", "sla:<ticket>:<target>:<step>", ... -
    # the same event seen twice (a retried job) records one notice.
    key: Mapped[str] = mapped_column(String(160), unique=True)
    staff_id: Mapped[int] = mapped_column(ForeignKey("staff.id", ondelete="CASCADE"))
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(20))  # a key of care_texts.NOTICE_TEXTS
    params: Mapped[dict] = mapped_column(JSON)
    ticket_id: Mapped[int | None] = mapped_column(ForeignKey("tickets.id", ondelete="SET NULL"))
    created_at = mapped_column(UTCDateTime, default=utcnow, nullable=False)
    read_at = mapped_column(UTCDateTime)

    __table_args__ = (Index("ix_account_owner_notices_staff_id_id", "staff_id", "id"),)


class CareState(sdk.Model):
    """A customer's proactive care: the last care ticket opened for them.
    Its row is locked while a care ticket is decided, so two decisions for
    the same customer (two level changes close together) open one ticket."""

    __tablename__ = "customer_care_states"

    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id", ondelete="CASCADE"), primary_key=True)
    last_ticket_id: Mapped[int | None] = mapped_column(ForeignKey("tickets.id", ondelete="SET NULL"))
    last_opened_at = mapped_column(UTCDateTime)
