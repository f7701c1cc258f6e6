"""satisfaction_survey's tables: one survey per resolution, and the tickets
marked for recovery after a bad answer.

Their schema is in the plugin's own migrations (``migrations/``, declared by
``register_migrations``).
"""
from __future__ import annotations

from sqlalchemy import JSON, Boolean, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from service import sdk
from service.sdk import UTCDateTime, utcnow

# scheduled: waits for its delivery; sent: open for an answer; answered;
# withdrawn: the resolution it asks about was reopened before an answer.
STATUSES = ("scheduled", "sent", "answered", "withdrawn")


class Survey(sdk.Model):
    """The survey about one resolution of a ticket, its link and its answer.

    ``round`` is the ticket's ``reopen_count`` when it was resolved, so each
    resolution (a first one, one after a reopen, ...) has exactly one survey.
    Who and what it was about (agent, department, category, tier, SLA) is
    kept as it was at the resolution, so reports do not shift when the
    ticket is edited later.
    """

    __tablename__ = "surveys"

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id", ondelete="CASCADE"))
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id", ondelete="CASCADE"))
    round: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(12), default="scheduled")
    language: Mapped[str] = mapped_column(String(10))
    # A random value mixed into the link's key; the link's key itself is
    # only stored as a SHA-256 (see tokens.py).
    nonce: Mapped[str] = mapped_column(String(32))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)

    created_at = mapped_column(UTCDateTime, default=utcnow, nullable=False)
    resolved_at = mapped_column(UTCDateTime, nullable=False)
    send_after = mapped_column(UTCDateTime, nullable=False)
    sent_at = mapped_column(UTCDateTime)
    expires_at = mapped_column(UTCDateTime)
    reminded_at = mapped_column(UTCDateTime)
    answered_at = mapped_column(UTCDateTime)
    withdrawn_at = mapped_column(UTCDateTime)

    # At the resolution: for the reports.
    agent_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id", ondelete="SET NULL"))
    department_id: Mapped[int | None] = mapped_column(ForeignKey("departments.id", ondelete="SET NULL"))
    category_id: Mapped[int | None] = mapped_column(ForeignKey("categories.id", ondelete="SET NULL"))
    tier: Mapped[str | None] = mapped_column(String(20))
    sla_met: Mapped[bool | None] = mapped_column(Boolean)  # None: the ticket had no SLA target

    # The answer.
    solved: Mapped[bool | None] = mapped_column(Boolean)
    rating: Mapped[int | None] = mapped_column(Integer)
    effort: Mapped[int | None] = mapped_column(Integer)
    nps: Mapped[int | None] = mapped_column(Integer)
    reasons: Mapped[list | None] = mapped_column(JSON)
    comment: Mapped[str | None] = mapped_column(Text)
    extra: Mapped[dict | None] = mapped_column(JSON)
    outcome: Mapped[str | None] = mapped_column(String(20))  # reopened, followup, closed, none

    ticket = relationship("Ticket", lazy="joined", innerjoin=True)

    __table_args__ = (
        UniqueConstraint("ticket_id", "round", name="uq_surveys_ticket_id_round"),
        Index("ix_surveys_status_sent_at", "status", "sent_at"),
        Index("ix_surveys_customer_id_answered_at", "customer_id", "answered_at"),
    )


class Recovery(sdk.Model):
    """A ticket marked for recovery: its customer answered "not solved" or a
    rating of 2 or less. Open until a later survey about the ticket (or its
    follow-up) is answered "solved" with 4 or more, or a supervisor closes it."""

    __tablename__ = "survey_recoveries"

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id", ondelete="CASCADE"))
    survey_id: Mapped[int] = mapped_column(ForeignKey("surveys.id", ondelete="CASCADE"), unique=True)
    reason: Mapped[str] = mapped_column(String(20))  # not_solved, low_rating
    followup_ticket_id: Mapped[int | None] = mapped_column(ForeignKey("tickets.id", ondelete="SET NULL"))
    created_at = mapped_column(UTCDateTime, default=utcnow, nullable=False)
    recovered_at = mapped_column(UTCDateTime)
    recovered_by: Mapped[str | None] = mapped_column(String(200))  # how it was closed

    ticket = relationship("Ticket", foreign_keys=[ticket_id], lazy="joined", innerjoin=True)
    followup = relationship("Ticket", foreign_keys=[followup_ticket_id])
    survey = relationship("Survey")

    __table_args__ = (Index("ix_survey_recoveries_recovered_at_id", "recovered_at", "id"),
                      Index("ix_survey_recoveries_ticket_id", "ticket_id"))
