"""Fixtures for credit_check: finance staff, customers with figures, ratings, tickets with remedies."""
from __future__ import annotations

import pytest

from plugins.credit_check.models import CreditRating
from service.extensions import db
from service.models import Customer
from service.models.base import utcnow

from creditparts import BEST  # noqa: F401  (re-exported for the tests)


@pytest.fixture
def finance(make_staff):
    return make_staff("finance", "finance")[1]


@pytest.fixture
def make_customer(app):
    """``make_customer(ref)`` -> customer id."""
    def make(ref="K-1", name="Acme"):
        customer = Customer(kind="company", name=name, external_ref=ref, email=f"{ref.lower()}@acme.test")
        db.session.add(customer)
        db.session.commit()
        return customer.id
    return make


@pytest.fixture
def graded(make_customer):
    """``graded(grade, ref)`` -> id of a customer whose rating in force has ``grade``
    (a stored rating of the current quarter; None: unrated)."""
    from plugins.credit_check.rating import current_quarter

    def make(grade, ref=None):
        customer_id = make_customer(ref or f"G-{grade or 'none'}")
        q = current_quarter()
        db.session.add(CreditRating(customer_id=customer_id, quarter=q, figures_quarter=q, source="scorecard",
                                    status="rated" if grade else "unrated", grade=grade,
                                    score={"AAA": 95, "AA": 85, "A": 75, "B": 65, "C": 30}.get(grade),
                                    reason=None if grade else "no figures", rated_at=utcnow(), rated_by="test"))
        db.session.commit()
        return customer_id
    return make


@pytest.fixture
def open_with_remedy(client, agent):
    """``open_with_remedy(customer_id, amount, currency="CNY")`` -> the ticket's JSON."""
    def make(customer_id, amount, currency="CNY", text="refund"):
        remedy = {"text": text}
        if amount is not None:
            remedy.update(amount=amount, currency=currency)
        response = client.post("/api/v1/tickets", headers=agent, json={
            "customer_id": customer_id, "subject": "Broken on arrival", "description": "It does not start.",
            "remedy": remedy})
        assert response.status_code == 201, response.json
        return response.json
    return make
