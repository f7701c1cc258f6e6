"""tier_sla's tables: spend, tiers (computed and overridden), tier history,
versioned SLA policies and each ticket's SLA clock.

Their schema is in the plugin's own migrations (``migrations/``, the Alembic
branch ``tier_sla``; its first revision adopts the tables a kefu 0.1
database already has).
"""
from __future__ import annotations

from sqlalchemy import JSON, BigInteger, Boolean, Date, Float, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from service import sdk
from service.sdk import UTCDateTime, utcnow


TRANSACTION_TYPES = ("sale", "return", "exchange", "cancellation")
"""What a transaction records: a ``sale`` (or a credit note: a sale with a
negative amount), or a ``return``, ``exchange`` or ``cancellation`` of goods
sold. Tiers count sales only; the others are signals of a cooling
relationship (the relationship_health plugin reads them)."""


class Transaction(sdk.Model):
    """One sale (or credit note, negative) to a customer - what tiers are
    computed from - or a return, exchange or cancellation (``type``)."""

    __tablename__ = "tier_transactions"

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id", ondelete="CASCADE"))
    occurred_on = mapped_column(Date, nullable=False)
    amount_minor: Mapped[int] = mapped_column(BigInteger)  # in minor units (fen, cents)
    margin_minor: Mapped[int | None] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3))
    reference: Mapped[str] = mapped_column(String(80))
    created_at = mapped_column(UTCDateTime, default=utcnow, nullable=False)
    # One of TRANSACTION_TYPES; rows written before the column existed are sales.
    type: Mapped[str] = mapped_column(String(12), default="sale", server_default="sale")

    __table_args__ = (
        # Importing the same file twice adds nothing.
        UniqueConstraint("customer_id", "reference", name="uq_tier_transactions_customer_id_reference"),
        Index("ix_tier_transactions_occurred_on_customer_id", "occurred_on", "customer_id"),
        # Per-customer readers (a profile's summary, relationship_health's
        # recompute by ranges of customers) read these columns from the index
        # alone, in customer order, instead of a heap page per transaction.
        Index("ix_tier_transactions_customer_id_occurred_on", "customer_id", "occurred_on", "type",
              "amount_minor", "currency"),
    )


class CustomerTier(sdk.Model):
    """A customer's computed tier, and a supervisor's override with reason and expiry."""

    __tablename__ = "customer_tiers"

    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id", ondelete="CASCADE"), primary_key=True)
    computed_tier: Mapped[str] = mapped_column(String(20))
    value_minor: Mapped[int] = mapped_column(BigInteger, default=0)  # spend or margin over the period
    rank: Mapped[int | None] = mapped_column(Integer)  # 1 = highest value
    computed_at = mapped_column(UTCDateTime, nullable=False)
    override_tier: Mapped[str | None] = mapped_column(String(20))
    override_reason: Mapped[str | None] = mapped_column(Text)
    override_by: Mapped[int | None] = mapped_column(Integer)  # staff id
    override_until = mapped_column(UTCDateTime)

    __table_args__ = (Index("ix_customer_tiers_computed_tier", "computed_tier"),)


class TierChange(sdk.Model):
    """A customer's tier changed: from, to, and why (recompute, override, expiry)."""

    __tablename__ = "customer_tier_changes"

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id", ondelete="CASCADE"))
    at = mapped_column(UTCDateTime, default=utcnow, nullable=False)
    from_tier: Mapped[str | None] = mapped_column(String(20))
    to_tier: Mapped[str] = mapped_column(String(20))
    reason: Mapped[str] = mapped_column(String(200))

    __table_args__ = (Index("ix_customer_tier_changes_customer_id_id", "customer_id", "id"),)


class SlaPolicy(sdk.Model):
    """One version of the SLA policy; the newest is in force. Never edited:
    a change is a new version, so a ticket keeps the policy it started under."""

    __tablename__ = "sla_policies"

    id: Mapped[int] = mapped_column(primary_key=True)
    created_at = mapped_column(UTCDateTime, default=utcnow, nullable=False)
    created_by: Mapped[int | None] = mapped_column(Integer)  # staff id; None: the defaults
    note: Mapped[str | None] = mapped_column(String(200))
    # {"targets": {tier: {priority: {"first_response": min, "resolution": min}}},
    #  "kinds": {kind: same shape, stricter}, "calendars": {name: calendar data},
    #  "tier_calendars": {tier: name}, "default_calendar": name, "warn_share": 0.75}
    data: Mapped[dict] = mapped_column(JSON)


class TicketSla(sdk.Model):
    """A ticket's SLA clock: its policy, targets, pauses, due and achieved times,
    and the escalation steps already taken."""

    __tablename__ = "ticket_slas"

    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id", ondelete="CASCADE"), primary_key=True)
    policy_id: Mapped[int] = mapped_column(ForeignKey("sla_policies.id"))
    tier: Mapped[str | None] = mapped_column(String(20))
    calendar: Mapped[str] = mapped_column(String(40))
    started_at = mapped_column(UTCDateTime, nullable=False)
    first_response_minutes: Mapped[int | None] = mapped_column(Integer)  # business-minute targets
    resolution_minutes: Mapped[int | None] = mapped_column(Integer)
    first_response_due = mapped_column(UTCDateTime)
    resolution_due = mapped_column(UTCDateTime)
    # [[start, end or null, reason], ...] as ISO strings; an open pause has no end.
    pauses: Mapped[list] = mapped_column(JSON, default=list)
    paused: Mapped[bool] = mapped_column(Boolean, default=False)
    first_responded_at = mapped_column(UTCDateTime)
    first_response_business_minutes: Mapped[float | None] = mapped_column(Float)
    resolved_at = mapped_column(UTCDateTime)
    resolution_business_minutes: Mapped[float | None] = mapped_column(Float)
    # Escalation steps taken, by name (each fires once).
    steps_done: Mapped[list] = mapped_column(JSON, default=list)
    flagged: Mapped[bool] = mapped_column(Boolean, default=False)
    # When the sweep must next look at this ticket (None: nothing left to watch).
    next_check = mapped_column(UTCDateTime)

    __table_args__ = (Index("ix_ticket_slas_next_check", "next_check"),)
