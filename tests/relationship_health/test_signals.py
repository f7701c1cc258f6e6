"""Every builtin signal and the score, pinned by hand-worked examples
(shipped signals.json: recency >= 2.5 -> 30, revenue fall >= 30 % -> 20,
returns >= 20 % -> 15, complaints >= 2 -> 20, unhappy >= 1 -> 20, contact
changes > 2 -> 10, open tickets past SLA >= 1 -> 15; watch from 25, at risk
from 50). Real SQLite or PostgreSQL; NOW is pinned."""
from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa

from healthparts import (NOW, changes, customer, health, points, recompute, sale, sales, survey, ticket,
                         values)
from service.extensions import db
from service.models import Customer


def test_a_monthly_buyer_quiet_for_90_days_scores_recency_a_yearly_buyer_does_not(app):
    monthly = customer("Monthly")
    # Sales every 30 days, the last 90 days ago: usual interval (330-90)/8 = 30, silence 90 / 30 = 3.0.
    sales(monthly, [90 + 30 * i for i in range(9)])
    yearly = customer("Yearly")
    # Sales every 365 days, the last 90 days ago: 90 / 365 = 0.25.
    sales(yearly, [90, 455, 820])
    recompute()
    assert values(monthly)["recency"] == 3.0 and points(monthly) == {"recency": 30, "revenue_trend": 20}
    assert values(yearly)["recency"] == 0.25 and "recency" not in points(yearly)


def test_recency_edges_one_sale_same_day_sales_and_no_sale(app):
    once = customer("Once")
    sale(once, 913)  # one sale: the interval is a year (365): 913 / 365 = 2.5013... -> 2.5, scores
    same_day = customer("Same day")
    sales(same_day, [5, 5, 5])  # no span: the interval is taken as one day: 5 / 1
    never = customer("Never")
    recompute()
    assert values(once)["recency"] == 2.5 and points(once)["recency"] == 30
    assert values(same_day)["recency"] == 5.0
    assert values(never)["recency"] is None and points(never) == {}
    assert health(never).score == 0 and health(never).level == "healthy"


def test_revenue_trend_compares_the_window_with_the_one_before(app):
    falling = customer("Falling")
    sale(falling, 100, 10_000)  # the 90 days before: 100.00
    sale(falling, 10, 6_000)   # the last 90 days: 60.00 -> fell 40 %
    steady = customer("Steady")
    sale(steady, 100, 10_000)
    sale(steady, 10, 8_000)  # fell 20 %: under 30
    gone = customer("Gone")
    sale(gone, 400, 10_000)  # nothing in either window, but bought before: a 100 % fall
    growing = customer("Growing")
    sale(growing, 100, 5_000)
    sale(growing, 10, 9_000)
    recompute()
    assert values(falling)["revenue_trend"] == 40.0 and points(falling) == {"revenue_trend": 20}
    assert values(steady)["revenue_trend"] == 20.0 and points(steady) == {}
    assert values(gone)["revenue_trend"] == 100.0 and points(gone)["revenue_trend"] == 20
    assert values(growing)["revenue_trend"] == 0


def test_returns_exchanges_and_cancellations_as_a_share_of_sales(app):
    one_in_four = customer("Returns")
    sales(one_in_four, [10, 20, 30, 40])
    sale(one_in_four, 5, 10_000, "return")  # 1 of 4 sales: 25 %
    one_in_ten = customer("Few returns")
    sales(one_in_ten, list(range(1, 11)))
    sale(one_in_ten, 3, 10_000, "exchange")  # 10 %
    old = customer("Old cancellation")
    sales(old, [10])
    sale(old, 200, 10_000, "cancellation")  # outside the 90 days: 0 %
    recompute()
    assert values(one_in_four)["returns"] == 25.0 and points(one_in_four) == {"returns": 15}
    assert values(one_in_ten)["returns"] == 10.0 and "returns" not in points(one_in_ten)
    assert values(old)["returns"] == 0


def test_returns_count_for_nothing_in_recency_and_revenue(app):
    person = customer()
    sales(person, [100, 130])
    sale(person, 1, 50_000, "return")  # a return yesterday is no purchase yesterday
    recompute()
    assert values(person)["recency"] == round(100 / 30, 2)  # 3.33: silence since the last *sale*
    assert values(person)["revenue_trend"] == 100.0  # nothing sold in the last 90 days


def test_complaints_in_the_window_from_two(app):
    two = customer("Two")
    ticket(two, 3)
    ticket(two, 40)
    one = customer("One")
    ticket(one, 3)
    ticket(one, 100)  # outside COMPLAINT_TREND_DAYS (90)
    requests = customer("Requests")
    ticket(requests, 3, kind="service_request")
    ticket(requests, 4, kind="service_request")
    recompute()
    assert values(two)["complaints"] == 2 and points(two) == {"complaints": 20}
    assert values(one)["complaints"] == 1 and points(one) == {}
    assert values(requests)["complaints"] == 0


def test_satisfaction_complaining_lost_or_last_survey_not_solved(app):
    not_solved = customer("Not solved")
    survey(not_solved, 5, rating=3, solved=False)  # last answer bad: complaining (and not solved)
    lost = customer("Lost")
    survey(lost, 20, rating=1, solved=True)
    survey(lost, 10, rating=2, solved=True)  # two bad answers, the last bad: lost
    happy = customer("Happy")
    survey(happy, 20, rating=2, solved=True)
    survey(happy, 10, rating=5, solved=True)  # the last answer good: ordinary
    recompute()
    assert values(not_solved)["satisfaction"] == 1 and points(not_solved) == {"satisfaction": 20}
    assert values(lost)["satisfaction"] == 1
    assert values(happy)["satisfaction"] == 0 and points(happy) == {}


def test_contact_changes_noticed_by_each_recompute_above_two(app):
    person = customer(email="a@x.test")
    recompute()
    for n, email in enumerate(["b@x.test", "c@x.test", "d@x.test"], 1):
        db.session.execute(sa.update(Customer).where(Customer.id == person).values(email=email))
        db.session.commit()
        recompute(NOW + timedelta(minutes=n))
        assert values(person)["contact_changes"] == n
    assert points(person) == {"contact_changes": 10}  # 3 > 2
    recompute(NOW + timedelta(minutes=9))
    assert values(person)["contact_changes"] == 3  # nothing changed since: nothing new


def test_open_tickets_past_their_sla(app):
    late = customer("Late")
    ticket(late, 5, kind="service_request", resolution_due_days=-1)
    on_time = customer("On time")
    ticket(on_time, 5, kind="service_request", resolution_due_days=1)
    ticket(on_time, 5, kind="service_request", status="closed", resolution_due_days=-1)
    recompute()
    assert values(late)["sla_overdue"] == 1 and points(late) == {"sla_overdue": 15}
    assert values(on_time)["sla_overdue"] == 0


def test_the_score_is_the_sum_and_the_level_follows_it(app):
    person = customer()
    sales(person, [90 + 30 * i for i in range(9)])  # recency 30 + revenue 20
    recompute()
    assert (health(person).score, health(person).level) == (50, "at_risk")
    assert changes(person) == [(person, None, "at_risk", 50)]
    watched = customer("Watched")
    ticket(watched, 1)
    ticket(watched, 2)  # complaints 20
    ticket(watched, 3, kind="service_request", resolution_due_days=-1)  # sla 15
    recompute()
    assert (health(watched).score, health(watched).level) == (35, "watch")
    healthy = customer("Healthy")
    ticket(healthy, 1, kind="service_request", resolution_due_days=-1)
    recompute()
    assert (health(healthy).score, health(healthy).level) == (15, "healthy")
    assert changes(healthy) == []  # healthy from the start: no change recorded


def test_recompute_is_idempotent_and_records_only_changes(app):
    person = customer()
    ticket(person, 1)
    ticket(person, 2)
    ticket(person, 3, kind="service_request", resolution_due_days=-1)
    first = recompute()
    assert first["changed"] == 1
    again = recompute(NOW + timedelta(hours=1))
    assert again["changed"] == 0 and changes(person) == [(person, None, "watch", 35)]
    survey(person, 0.5, rating=2, solved=False)  # the last survey not solved: + 20
    recompute(NOW + timedelta(hours=2))
    assert (health(person).score, health(person).level) == (55, "at_risk")
    assert changes(person) == [(person, None, "watch", 35), (person, "watch", "at_risk", 55)]


def test_the_worked_example_of_the_docs(app):
    """docs/relationship_health.md's worked example, as written there."""
    monthly = customer("Monthly")
    sales(monthly, [90 + 30 * i for i in range(9)])
    ticket(monthly, 2)
    ticket(monthly, 5)
    yearly = customer("Yearly")
    sales(yearly, [90, 455, 820])
    ticket(yearly, 2)
    ticket(yearly, 5)
    recompute()
    assert points(monthly) == {"recency": 30, "revenue_trend": 20, "complaints": 20}
    assert (health(monthly).score, health(monthly).level) == (70, "at_risk")
    assert values(monthly)["satisfaction"] == 0 and values(monthly)["returns"] == 0
    assert (health(yearly).score, health(yearly).level) == (40, "watch")
    assert changes(monthly) == [(monthly, None, "at_risk", 70)]
