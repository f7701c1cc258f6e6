"""A rating explained (grade, score, per-indicator and per-group points) and
the record of who viewed a breakdown: every view of one is recorded."""
from __future__ import annotations

from decimal import Decimal

from sqlalchemy import select

from service import sdk

from .models import CreditRating, CreditView
from .rating import current_rating, rating_for
from .scorecard import CENT
from .settings import settings


def _groups(breakdown: list[dict]) -> list[dict]:
    card = settings().scorecard
    totals: dict[str, list[Decimal]] = {}
    for item in breakdown:
        got = totals.setdefault(item["group"], [Decimal(0), Decimal(0)])
        got[0] += Decimal(item["points"])
        got[1] += Decimal(item["max_points"])
    return [{"key": key, "name": card.groups.get(key, {}).get("name", key),
             "name_zh": card.groups.get(key, {}).get("name_zh", key),
             "points": str(p.quantize(CENT)), "max_points": str(m.quantize(CENT))} for key, (p, m) in totals.items()]


def detail(rating: CreditRating | None, customer_id: int) -> dict:
    """The rating as the credit API shows it; a customer never rated is
    ``unrated`` with the reason ``not rated yet``."""
    if rating is None:
        return {"customer_id": customer_id, "status": "unrated", "reason": "not rated yet", "breakdown": [],
                "groups": []}
    names = {i.key: i for i in settings().scorecard.indicators}
    breakdown = [{**item, "name": names[item["key"]].name if item["key"] in names else item["key"],
                  "name_zh": names[item["key"]].name_zh if item["key"] in names else item["key"]}
                 for item in rating.breakdown or []]
    return {"customer_id": customer_id, "status": rating.status, "grade": rating.grade,
            "score": rating.score, "internal_score": rating.internal_score, "source": rating.source,
            "quarter": rating.quarter, "figures_quarter": rating.figures_quarter, "rated_at": rating.rated_at,
            "rated_by": rating.rated_by, "reason": rating.reason, "breakdown": breakdown,
            "groups": _groups(rating.breakdown or [])}


def view_breakdown(customer_id: int, staff, quarter: str | None = None) -> dict:
    """The rating in force (or the latest for ``quarter``) explained, and the
    view recorded (who, when, which customer and rating) in one unit of
    work: no breakdown is shown unrecorded. 404 for an unknown customer."""
    with sdk.UnitOfWork() as uow:
        sdk.get_customer(customer_id)
        rating = rating_for(customer_id, quarter) if quarter else current_rating(customer_id)
        out = detail(rating, customer_id)
        sdk.db.session.add(CreditView(customer_id=customer_id, rating_id=rating.id if rating else None,
                                      staff_id=staff.id))
        uow.commit()
    return out


def views_of(customer_id: int, limit: int = 200) -> list[CreditView]:
    """Who viewed the customer's credit breakdown, newest first; 404 for an unknown customer."""
    sdk.get_customer(customer_id)
    return list(sdk.db.session.scalars(select(CreditView).where(CreditView.customer_id == customer_id)
                                       .order_by(CreditView.id.desc()).limit(limit)))
