"""relationship_health's tables: each customer's health (score, level, the
signals' values and points), the changes of level with the signals that
caused them, and the contact changes the recompute noticed.

Their schema is in the plugin's own migrations (``migrations/``, the Alembic
branch ``relationship_health``).
"""
from __future__ import annotations

from sqlalchemy import JSON, Float, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from service import sdk
from service.sdk import UTCDateTime, utcnow

LEVELS = ("healthy", "watch", "at_risk")


class CustomerHealth(sdk.Model):
    """A customer's health as of the last recompute: score (higher is more
    risk), level, and per signal its value and points."""

    __tablename__ = "customer_health"

    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id", ondelete="CASCADE"), primary_key=True)
    score: Mapped[int] = mapped_column(Integer)
    level: Mapped[str] = mapped_column(String(12))
    # When the values last changed (a run that finds them unchanged leaves
    # the row alone; the latest HealthRun says when it was last checked).
    computed_at = mapped_column(UTCDateTime, nullable=False)
    # {signal name: value or null}, {signal name: points}: what the score was made of.
    signal_values: Mapped[dict] = mapped_column(JSON)
    signal_points: Mapped[dict] = mapped_column(JSON)
    # The e-mail and phone seen by the last recompute ("email|phone"): the
    # next one records a ContactChange when they differ. Never shown.
    contact_seen: Mapped[str | None] = mapped_column(Text)

    __table_args__ = (Index("ix_customer_health_level_score", "level", "score"),)


class HealthChange(sdk.Model):
    """A customer's level changed: from, to, the score, and the signals that
    scored points then (``{name: {"value", "points"}}``)."""

    __tablename__ = "customer_health_changes"

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id", ondelete="CASCADE"))
    at = mapped_column(UTCDateTime, default=utcnow, nullable=False)
    from_level: Mapped[str | None] = mapped_column(String(12))
    to_level: Mapped[str] = mapped_column(String(12))
    score: Mapped[int] = mapped_column(Integer)
    signal_values: Mapped[dict] = mapped_column(JSON)
    signal_points: Mapped[dict] = mapped_column(JSON)

    __table_args__ = (Index("ix_customer_health_changes_customer_id_id", "customer_id", "id"),
                      Index("ix_customer_health_changes_at", "at"))


class ContactChange(sdk.Model):
    """The customer's e-mail or phone differed from what the previous
    recompute saw (several edits between two recomputes count once)."""

    __tablename__ = "customer_contact_changes"

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id", ondelete="CASCADE"))
    at = mapped_column(UTCDateTime, default=utcnow, nullable=False)

    __table_args__ = (Index("ix_customer_contact_changes_customer_id_at", "customer_id", "at"),)


class HealthRun(sdk.Model):
    """One recompute that finished: when, how many customers, how many changed level."""

    __tablename__ = "customer_health_runs"

    id: Mapped[int] = mapped_column(primary_key=True)
    started_at = mapped_column(UTCDateTime, nullable=False)  # the moment the signals were measured at
    finished_at = mapped_column(UTCDateTime, nullable=False)
    customers: Mapped[int] = mapped_column(Integer)
    changed: Mapped[int] = mapped_column(Integer)
    seconds: Mapped[float] = mapped_column(Float)
