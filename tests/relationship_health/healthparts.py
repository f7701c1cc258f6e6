"""Rows for relationship_health's tests, written directly as each plugin
stores them (transactions, tickets, surveys), at days before a pinned NOW."""
from __future__ import annotations

import secrets
from datetime import datetime, timedelta, timezone

import sqlalchemy as sa

from plugins.relationship_health import recompute as rc
from plugins.relationship_health.models import CustomerHealth, HealthChange
from plugins.satisfaction_survey.models import Survey
from plugins.tier_sla.models import Transaction
from service.extensions import db
from service.models import Category, Customer, Ticket

# Noon UTC, so "days ago" never straddles midnight and dates are unambiguous.
NOW = datetime(2026, 6, 15, 12, 0, tzinfo=timezone.utc)
TODAY = NOW.date()
_refs = iter(range(1, 10**9))


def customer(name="Acme", email=None, phone=None) -> int:
    row = Customer(name=name, email=email, phone=phone, external_ref=f"H-{next(_refs)}")
    db.session.add(row)
    db.session.commit()
    return row.id


def sale(customer_id: int, days_ago: int, amount: int = 10_000, type_: str = "sale") -> None:
    db.session.add(Transaction(customer_id=customer_id, occurred_on=TODAY - timedelta(days=days_ago),
                               amount_minor=amount, currency="CNY", reference=f"R-{next(_refs)}", type=type_))
    db.session.commit()


def sales(customer_id: int, days_ago: list[int], amount: int = 10_000, type_: str = "sale") -> None:
    for d in days_ago:
        sale(customer_id, d, amount, type_)


def _category() -> int:
    found = db.session.scalar(sa.select(Category.id).limit(1))
    if found is None:
        row = Category(code="other", name="Other", name_zh="其他")
        db.session.add(row)
        db.session.commit()
        found = row.id
    return found


def ticket(customer_id: int, days_ago: float = 1, kind: str = "complaint", status: str = "new",
           resolution_due_days: float | None = None) -> int:
    """A ticket opened ``days_ago`` before NOW; ``resolution_due_days``:
    due that many days after NOW (negative: overdue)."""
    at = NOW - timedelta(days=days_ago)
    row = Ticket(kind=kind, channel="web", category_id=_category(), subject="Broken", description="It broke.",
                 status=status, customer_id=customer_id, created_at=at, updated_at=at, version=1,
                 resolution_due=None if resolution_due_days is None else NOW + timedelta(days=resolution_due_days))
    db.session.add(row)
    db.session.commit()
    return row.id


def survey(customer_id: int, days_ago: float, rating: int, solved: bool) -> None:
    at = NOW - timedelta(days=days_ago)
    db.session.add(Survey(ticket_id=ticket(customer_id, days_ago + 1, kind="service_request", status="closed"),
                          customer_id=customer_id, round=0, status="answered", language="en",
                          nonce=secrets.token_hex(8), token_hash=secrets.token_hex(32), resolved_at=at,
                          send_after=at, sent_at=at, answered_at=at, solved=solved, rating=rating))
    db.session.commit()


def recompute(now=NOW) -> dict:
    result = rc.recompute(now=now)
    db.session.expire_all()
    return result


def health(customer_id: int) -> CustomerHealth:
    db.session.expire_all()
    return db.session.get(CustomerHealth, customer_id)


def points(customer_id: int) -> dict:
    """The signals that scored, with their points."""
    return {k: v for k, v in health(customer_id).signal_points.items() if v}


def values(customer_id: int) -> dict:
    return health(customer_id).signal_values


def changes(customer_id: int | None = None) -> list[tuple]:
    db.session.expire_all()
    stmt = sa.select(HealthChange).order_by(HealthChange.id)
    if customer_id is not None:
        stmt = stmt.where(HealthChange.customer_id == customer_id)
    return [(c.customer_id, c.from_level, c.to_level, c.score) for c in db.session.scalars(stmt)]
