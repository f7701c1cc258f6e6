"""credit_check's tables: each customer's figures per quarter, every rating
with its per-indicator breakdown, and who viewed a breakdown when.

Their schema is in the plugin's own migrations (``migrations/``, the
``credit_check`` Alembic branch, declared by ``register_migrations``).
"""
from __future__ import annotations

from sqlalchemy import JSON, ForeignKey, Index, Integer, Numeric, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from service import sdk
from service.sdk import UTCDateTime, utcnow


class CreditFigures(sdk.Model):
    """A customer's figures for one quarter (``2026Q3``): ``{indicator key: number}``.

    Imports merge into it, so financial statements and the payment record
    may come from different files.
    """

    __tablename__ = "credit_figures"

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id", ondelete="CASCADE"))
    quarter: Mapped[str] = mapped_column(String(6))
    data: Mapped[dict] = mapped_column(JSON)
    updated_at = mapped_column(UTCDateTime, default=utcnow, nullable=False)

    __table_args__ = (UniqueConstraint("customer_id", "quarter", name="uq_credit_figures_customer_id_quarter"),)


class CreditRating(sdk.Model):
    """One rating of a customer for a quarter, kept for good (a re-rate adds a row).

    ``status`` is ``rated`` (grade and score set) or ``unrated`` (``reason``
    says why: never a made-up grade). ``breakdown`` lists every indicator's
    value and points; ``internal_score`` is the scorecard's sum, ``score``
    the one graded (an external source's when it answered, see ``source``).
    """

    __tablename__ = "credit_ratings"

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id", ondelete="CASCADE"))
    quarter: Mapped[str] = mapped_column(String(6))  # the quarter the rating applies to
    figures_quarter: Mapped[str] = mapped_column(String(6))  # the quarter it was rated from
    status: Mapped[str] = mapped_column(String(10))
    grade: Mapped[str | None] = mapped_column(String(10))
    score = mapped_column(Numeric(6, 2))
    internal_score = mapped_column(Numeric(6, 2))
    source: Mapped[str] = mapped_column(String(80))  # "scorecard" or the external source's name
    breakdown: Mapped[list | None] = mapped_column(JSON)
    reason: Mapped[str | None] = mapped_column(Text)
    rated_at = mapped_column(UTCDateTime, default=utcnow, nullable=False)
    rated_by: Mapped[str] = mapped_column(String(80))  # "job", "cli", "staff:<id>", "demo"

    __table_args__ = (Index("ix_credit_ratings_customer_id_quarter_id", "customer_id", "quarter", "id"),
                      Index("ix_credit_ratings_quarter", "quarter"))


class CreditView(sdk.Model):
    """A staff member looked at a customer's credit breakdown."""

    __tablename__ = "credit_views"

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id", ondelete="CASCADE"))
    rating_id: Mapped[int | None] = mapped_column(Integer)
    staff_id: Mapped[int] = mapped_column(ForeignKey("staff.id"))
    at = mapped_column(UTCDateTime, default=utcnow, nullable=False)

    __table_args__ = (Index("ix_credit_views_customer_id_id", "customer_id", "id"),)
