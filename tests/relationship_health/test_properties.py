"""Hypothesis: more complaints, more returns (exchanges, cancellations) or a
longer silence never lower a customer's risk score, and the recompute is
idempotent. Each example makes a customer and its mutated twin side by side,
so one recompute (at the pinned NOW) compares them."""
from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from healthparts import NOW, changes, customer, health, recompute, sale, survey, ticket
from plugins.relationship_health.models import CustomerHealth
from service.extensions import db

SETTINGS = settings(max_examples=30, deadline=None, database=None,
                    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])

histories = st.fixed_dictionaries({
    # (days ago, amount in minor units): purchases, and a credit note now and then.
    "sales": st.lists(st.tuples(st.integers(0, 500), st.sampled_from([5_000, 10_000, 40_000, -3_000])),
                      max_size=8),
    "returns": st.lists(st.tuples(st.integers(0, 200), st.sampled_from(["return", "exchange", "cancellation"])),
                        max_size=3),
    "complaints": st.lists(st.integers(0, 200), max_size=3),
    "surveys": st.lists(st.tuples(st.integers(0, 150), st.integers(1, 5), st.booleans()), max_size=3),
    "overdue": st.booleans(),
})


def make(history, sales=None) -> int:
    """A customer with ``history`` (``sales`` instead of its sales, when given)."""
    cid = customer()
    for days, amount in (history["sales"] if sales is None else sales):
        sale(cid, days, amount)
    for days, kind in history["returns"]:
        sale(cid, days, 7_000, kind)
    for days in history["complaints"]:
        ticket(cid, days + 0.5)
    for days, rating, solved in history["surveys"]:
        survey(cid, days + 0.25, rating, solved)
    if history["overdue"]:
        ticket(cid, 3, kind="service_request", resolution_due_days=-1)
    return cid


def scores(*ids) -> list[int]:
    return [health(i).score for i in ids]


@SETTINGS
@given(history=histories, days=st.integers(0, 200))
def test_a_complaint_more_never_lowers_the_score(app, history, days):
    base, more = make(history), make(history)
    ticket(more, days + 0.5)
    recompute()
    before, after = scores(base, more)
    assert after >= before


@SETTINGS
@given(history=histories, days=st.integers(0, 200), kind=st.sampled_from(["return", "exchange", "cancellation"]))
def test_a_return_exchange_or_cancellation_more_never_lowers_the_score(app, history, days, kind):
    base, more = make(history), make(history)
    sale(more, days, 7_000, kind)
    recompute()
    before, after = scores(base, more)
    assert after >= before


@SETTINGS
@given(history=histories, shift=st.integers(1, 400))
def test_a_longer_silence_never_lowers_the_score(app, history, shift):
    # The last purchase made earlier (not past the one before it): the
    # customer has been silent for longer, all else equal.
    purchases = sorted((d, a) for d, a in history["sales"] if a > 0)
    assume(purchases)
    last, rest = purchases[0], purchases[1:]
    limit = rest[0][0] if rest else last[0] + 400
    assume(last[0] + shift <= limit)
    others = [s for s in history["sales"] if s != last] + [s for s in history["sales"] if s == last][1:]
    base, quieter = make(history), make(history, sales=others + [(last[0] + shift, last[1])])
    recompute()
    before, after = scores(base, quieter)
    assert after >= before


@SETTINGS
@given(history=histories)
def test_the_recompute_is_idempotent(app, history):
    cid = make(history)
    recompute()
    first = health(cid)
    snapshot = (first.score, first.level, dict(first.signal_values), dict(first.signal_points))
    recorded = changes(cid)
    again = recompute(NOW + timedelta(minutes=5))
    second = health(cid)
    assert (second.score, second.level, second.signal_values, second.signal_points) == snapshot
    assert again["changed"] == 0 and changes(cid) == recorded
    assert db.session.scalar(sa.select(sa.func.count()).select_from(CustomerHealth)) == again["customers"]
