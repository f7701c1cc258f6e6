"""Ratings: from the previous quarter's figures, kept with their breakdown,
unrated with the reason when figures are missing; the quarterly job."""
from __future__ import annotations

from decimal import Decimal

import pytest
from sqlalchemy import func, select

from plugins.credit_check import quarters
from plugins.credit_check.figures import set_figures
from plugins.credit_check.models import CreditRating
from plugins.credit_check.rating import current_quarter, current_rating, rate_customer, rerate_job
from service.extensions import db

from creditparts import BEST


def _ratings(customer_id=None):
    stmt = select(CreditRating).order_by(CreditRating.id)
    if customer_id is not None:
        stmt = stmt.where(CreditRating.customer_id == customer_id)
    return list(db.session.scalars(stmt))


@pytest.mark.parametrize("day, quarter, before", [
    ("2026-01-01", "2026Q1", "2025Q4"), ("2026-03-31", "2026Q1", "2025Q4"), ("2026-04-01", "2026Q2", "2026Q1"),
    ("2026-09-30", "2026Q3", "2026Q2"), ("2026-10-01", "2026Q4", "2026Q3"), ("2026-12-31", "2026Q4", "2026Q3"),
])
def test_quarters(day, quarter, before):
    from datetime import date

    assert quarters.of(date.fromisoformat(day)) == quarter
    assert quarters.previous(quarter) == before


@pytest.mark.parametrize("bad", ["2026Q5", "2026Q0", "26Q1", "2026-Q1", "", "2026q1"])
def test_bad_quarters_are_refused(bad):
    with pytest.raises(ValueError, match="not a quarter such as 2026Q4"):
        quarters.check(bad)


def test_a_rating_uses_the_previous_quarters_figures_and_keeps_its_breakdown(app, make_customer):
    customer = make_customer()
    set_figures(customer, "2026Q3", dict(BEST, on_time_payment_rate=90))   # 12 -> 9: 97
    set_figures(customer, "2026Q4", dict(BEST, on_time_payment_rate=60))   # would be 88: not used for 2026Q4
    rating = rate_customer(customer, "2026Q4", rated_by="test")
    assert (rating.status, rating.grade, rating.score, rating.figures_quarter) == ("rated", "AAA", Decimal("97.00"), "2026Q3")
    assert rating.source == "scorecard" and rating.internal_score == rating.score
    points = {item["key"]: item["points"] for item in rating.breakdown}
    assert points["on_time_payment_rate"] == "9.00" and len(points) == 20
    next_quarter = rate_customer(customer, "2027Q1", rated_by="test")
    assert (next_quarter.grade, next_quarter.score) == ("AA", Decimal("88.00"))


def test_missing_figures_give_unrated_with_the_reason_never_a_grade(app, make_customer):
    nothing = make_customer("N-1")
    partial = make_customer("P-1")
    set_figures(partial, "2026Q3", {k: v for k, v in BEST.items() if k not in ("net_margin", "bad_debts")})
    none = rate_customer(nothing, "2026Q4")
    assert (none.status, none.grade, none.score, none.breakdown) == ("unrated", None, None, None)
    assert none.reason == "no figures for 2026Q3"
    part = rate_customer(partial, "2026Q4")
    assert (part.status, part.grade, part.score) == ("unrated", None, None)
    assert part.reason == "figures missing: bad_debts, net_margin for 2026Q3"


def test_every_rating_is_kept_and_the_latest_is_in_force(app, make_customer):
    customer = make_customer()
    set_figures(customer, "2026Q3", BEST)
    rate_customer(customer, "2026Q4")
    set_figures(customer, "2026Q3", {"on_time_payment_rate": 60})  # merged: one figure changed
    again = rate_customer(customer, "2026Q4")
    assert [(r.grade, r.score) for r in _ratings(customer)] == [("AAA", Decimal("100.00")), ("AA", Decimal("88.00"))]
    assert current_rating(customer).id == again.id


def test_quarterly_job_rates_the_quarter_of_today_from_the_one_before(app, make_customer):
    a, b = make_customer("A-1"), make_customer("B-1")
    set_figures(a, "2026Q4", BEST)
    set_figures(b, "2026Q3", BEST)
    # On 2027-01-02 the quarter is 2027Q1, rated from 2026Q4: a has figures, b does not.
    assert rerate_job(today="2027-01-02") == {"quarter": "2027Q1", "rated": 1, "unrated": 1}
    by_customer = {r.customer_id: r for r in _ratings()}
    assert (by_customer[a].quarter, by_customer[a].figures_quarter, by_customer[a].grade) == ("2027Q1", "2026Q4", "AAA")
    assert (by_customer[b].status, by_customer[b].reason) == ("unrated", "no figures for 2026Q4")
    # On the last day of 2026 the quarter is 2026Q4, rated from 2026Q3: b has figures, a does not.
    assert rerate_job(today="2026-12-31") == {"quarter": "2026Q4", "rated": 1, "unrated": 1}


def test_running_the_job_again_does_nothing_new(app, make_customer):
    a, b = make_customer("A-1"), make_customer("B-1")
    set_figures(a, "2026Q3", BEST)
    assert rerate_job(today="2026-11-24") == {"quarter": "2026Q4", "rated": 1, "unrated": 1}
    assert rerate_job(today="2026-11-24") == {"quarter": "2026Q4", "rated": 0, "unrated": 0}
    assert rerate_job(today="2026-12-01") == {"quarter": "2026Q4", "rated": 0, "unrated": 0}
    assert db.session.scalar(select(func.count(CreditRating.id))) == 2
    # b's figures arrive: the next run rates b (and only b).
    set_figures(b, "2026Q3", BEST)
    assert rerate_job(today="2026-12-01") == {"quarter": "2026Q4", "rated": 1, "unrated": 0}
    assert current_rating(b).grade == "AAA"
    assert rerate_job(today="2026-12-01")["rated"] == 0


def test_the_periodic_job_is_registered_and_runs_through_the_job_runner(app, jobs, make_customer):
    from service.jobs.registry import registry

    spec = registry(app)["credit_check.rerate"]
    assert spec.interval == 6 * 3600
    customer = make_customer()
    set_figures(customer, quarters.previous(current_quarter()), BEST)
    jobs.drain()
    rating = current_rating(customer)
    assert (rating.quarter, rating.grade, rating.rated_by) == (current_quarter(), "AAA", "job")
    jobs.drain()
    assert len(_ratings(customer)) == 1
