"""Rows for the customer pages' tests: customers with tickets, a tier and
transactions (tier_sla), surveys (satisfaction_survey), credit ratings and
figures (credit_check), written directly as each plugin stores them."""
from __future__ import annotations

import secrets
from datetime import date, timedelta
from decimal import Decimal

from flask import current_app
from sqlalchemy import func, select

from plugins.credit_check.models import CreditFigures, CreditRating
from plugins.satisfaction_survey.models import Survey
from plugins.tier_sla.models import CustomerTier, Transaction
from service.extensions import db
from service.models import Customer, CustomerNote, Ticket
from service.models.base import utcnow


def customer(name, email=None, phone=None, ref=None, language="en") -> Customer:
    row = Customer(name=name, email=email, phone=phone, external_ref=ref, language=language)
    db.session.add(row)
    db.session.commit()
    return row


def ticket_for(file_ticket, person: Customer, subject="Washer not delivered", kind="complaint") -> str:
    """A ticket filed through the public API with ``person``'s contact only (found, not created);
    ``file_ticket`` is taken for its app's fixtures (its default e-mail would be wrong here)."""
    contact = {"email": person.email} if person.email else {"phone": person.phone}
    body = {"name": person.name, "kind": kind, "category": "other", "subject": subject,
            "description": "As told on the phone.", **contact}
    response = current_app.test_client().post("/api/v1/public/tickets", json=body)
    assert response.status_code == 201, response.json
    ticket = response.json
    assert db.session.get(Ticket, int(ticket["number"].split("-")[1])).customer_id == person.id
    return ticket["number"]


def tier(person: Customer, computed: str, value_minor: int, rank: int, override: str | None = None) -> None:
    db.session.add(CustomerTier(customer_id=person.id, computed_tier=computed, value_minor=value_minor, rank=rank,
                                computed_at=utcnow(), override_tier=override,
                                override_reason="test" if override else None))
    db.session.commit()


def transaction(person: Customer, reference: str, amount_minor: int, days_ago: int = 10) -> None:
    db.session.add(Transaction(customer_id=person.id, occurred_on=date.today() - timedelta(days=days_ago),
                               amount_minor=amount_minor, currency="CNY", reference=reference))
    db.session.commit()


def survey(person: Customer, number: str, rating: int, solved: bool = True, round_: int = 0) -> None:
    now = utcnow()
    db.session.add(Survey(ticket_id=int(number.split("-")[1]), customer_id=person.id, round=round_,
                          status="answered", language="en", nonce=secrets.token_hex(8),
                          token_hash=secrets.token_hex(32), resolved_at=now, send_after=now, sent_at=now,
                          answered_at=now, solved=solved, rating=rating))
    db.session.commit()


def rating(person: Customer, grade: str, quarter: str = "2026Q4", score: str = "85.00") -> None:
    db.session.add(CreditRating(customer_id=person.id, quarter=quarter, figures_quarter="2026Q3", status="rated",
                                grade=grade, score=Decimal(score), source="scorecard", rated_by="test"))
    db.session.commit()


def figures(person: Customer, quarter: str, data: dict) -> None:
    db.session.add(CreditFigures(customer_id=person.id, quarter=quarter, data=data))
    db.session.commit()


def counts(customer_id: int) -> dict:
    """How many rows of each kind belong to ``customer_id`` (after a merge, nothing may be lost)."""
    db.session.expire_all()

    def n(model):
        return db.session.scalar(select(func.count()).select_from(model).where(model.customer_id == customer_id))

    return {"tickets": n(Ticket), "surveys": n(Survey), "transactions": n(Transaction),
            "ratings": n(CreditRating), "notes": n(CustomerNote), "figures": n(CreditFigures)}
