"""Rating customers: each quarter's rating from the previous quarter's
figures, kept with its breakdown; the quarterly job; reading the rating in force.

A rating for quarter Q is made from the figures of the quarter before Q
(DOMAIN.md: "re-rated every quarter from the previous quarter's data").
Missing figures give an ``unrated`` rating naming them, never a made-up
grade - unless the external source (``credit_source``) answers, whose score
is then graded instead (the internal breakdown is kept beside it when the
figures are complete).

Every rating is written in a ``sdk.UnitOfWork`` of its own: one customer
rated now, or each customer of the quarterly job in turn.
"""
from __future__ import annotations

from datetime import date
from decimal import Decimal

from sqlalchemy import and_, func, select

from service import sdk

from . import quarters
from .models import CreditFigures, CreditRating
from .scorecard import CENT, grade_for
from .settings import settings
from .source import external_score

INTERNAL = "scorecard"


def current_quarter(today: date | None = None) -> str:
    """The quarter of ``today`` (default: today, UTC)."""
    return quarters.of(today or sdk.utcnow().date())


def _make(customer: sdk.Customer, quarter: str, rated_by: str) -> CreditRating:
    conf = settings()
    figures_quarter = quarters.previous(quarter)
    external, note = external_score(customer, quarter)
    row = sdk.db.session.scalar(select(CreditFigures).where(CreditFigures.customer_id == customer.id,
                                                            CreditFigures.quarter == figures_quarter))
    figures = row.data if row is not None else {}
    missing = conf.scorecard.missing(figures)
    rating = CreditRating(customer_id=customer.id, quarter=quarter, figures_quarter=figures_quarter,
                          rated_at=sdk.utcnow(), rated_by=rated_by[:80], source=INTERNAL)
    notes = [note] if note else []
    if not missing:
        internal, breakdown = conf.scorecard.score(figures)
        rating.internal_score, rating.breakdown = internal, breakdown
    if external is not None:
        rating.status, rating.source = "rated", external["source"]
        rating.score = Decimal(str(external["score"])).quantize(CENT)
        if missing:
            notes.append(f"graded on the external score; no internal breakdown (figures for "
                         f"{figures_quarter} missing: {', '.join(missing)})")
    elif not missing:
        rating.status, rating.score = "rated", rating.internal_score
    else:
        rating.status = "unrated"
        what = "no figures" if not figures else "figures missing: " + ", ".join(missing)
        notes.append(f"{what} for {figures_quarter}")
    if rating.status == "rated":
        rating.grade = grade_for(rating.score, conf.grades)
    rating.reason = "; ".join(notes) or None
    sdk.db.session.add(rating)
    return rating


def rate_customer(customer_id: int, quarter: str | None = None, rated_by: str = "cli") -> CreditRating:
    """Rate one customer for ``quarter`` (default: the current one) now, and commit.

    Always adds a rating (an earlier one for the same quarter is kept; the
    latest is in force). 404 for an unknown customer, 422 naming ``quarter``
    for a bad quarter.
    """
    quarter = _quarter(quarter)
    with sdk.UnitOfWork() as uow:
        rating = _make(sdk.hold_customer(customer_id), quarter, rated_by)
        uow.commit()
    return rating


def _quarter(quarter: str | None) -> str:
    try:
        return quarters.check(quarter or current_quarter())
    except ValueError as exc:
        raise sdk.ValidationFailed(str(exc), {"quarter": [str(exc)]}) from None


def _due_ids(quarter: str) -> list[int]:
    """Customers with no rating for ``quarter``, or only an unrated one made
    before their previous quarter's figures last changed."""
    latest = (select(CreditRating.customer_id, func.max(CreditRating.id).label("id"))
              .where(CreditRating.quarter == quarter).group_by(CreditRating.customer_id).subquery())
    last = CreditRating.__table__.alias("last")
    figures = CreditFigures.__table__.alias("figures")
    stmt = (select(sdk.Customer.id)
            .outerjoin(latest, latest.c.customer_id == sdk.Customer.id)
            .outerjoin(last, last.c.id == latest.c.id)
            .outerjoin(figures, and_(figures.c.customer_id == sdk.Customer.id,
                                     figures.c.quarter == quarters.previous(quarter)))
            .where((latest.c.id.is_(None))
                   | ((last.c.status == "unrated") & (figures.c.updated_at > last.c.rated_at)))
            .order_by(sdk.Customer.id))
    return list(sdk.db.session.scalars(stmt))


def rate_due(quarter: str | None = None, rated_by: str = "job", progress=None) -> dict:
    """Rate every customer whose rating for ``quarter`` (default: the current
    one) is missing, or unrated while their figures have since arrived.

    Each customer is its own unit of work (a failure keeps the ratings
    made before it); running it again rates nobody new. Returns
    ``{"quarter", "rated", "unrated"}`` counts.
    """
    quarter = quarters.check(quarter or current_quarter())
    counts = {"quarter": quarter, "rated": 0, "unrated": 0}
    ids = _due_ids(quarter)
    if progress is not None:
        progress(total=len(ids))
    for customer_id in ids:
        with sdk.UnitOfWork() as uow:
            rating = _make(sdk.db.session.get(sdk.Customer, customer_id), quarter, rated_by)
            status = rating.status
            uow.commit()
        counts[status] += 1
        if progress is not None:
            progress()
    return counts


def rerate_job(today: str | None = None) -> dict:
    """The periodic job ``credit_check.rerate``: ``rate_due()`` for the quarter
    of ``today`` (ISO date; default: today, UTC), from the quarter before's figures."""
    return rate_due(current_quarter(date.fromisoformat(today) if today else None), rated_by="job")


def current_rating(customer_id: int | None) -> CreditRating | None:
    """The rating in force: the customer's latest rating of the latest quarter rated, or None."""
    if customer_id is None:
        return None
    return sdk.db.session.scalar(select(CreditRating).where(CreditRating.customer_id == customer_id)
                                 .order_by(CreditRating.quarter.desc(), CreditRating.id.desc()).limit(1))


def rating_for(customer_id: int, quarter: str) -> CreditRating | None:
    """The latest rating of ``customer_id`` for ``quarter``, or None."""
    return sdk.db.session.scalar(select(CreditRating).where(CreditRating.customer_id == customer_id,
                                                            CreditRating.quarter == quarter)
                                 .order_by(CreditRating.id.desc()).limit(1))


def ratings_of(customer_id: int, limit: int = 40) -> list[CreditRating]:
    """The customer's ratings, newest first; 404 for an unknown customer."""
    sdk.get_customer(customer_id)
    return list(sdk.db.session.scalars(select(CreditRating).where(CreditRating.customer_id == customer_id)
                                       .order_by(CreditRating.quarter.desc(), CreditRating.id.desc())
                                       .limit(limit)))
