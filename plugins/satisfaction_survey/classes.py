"""Satisfaction classes (DOMAIN.md, 002 售后部: loyal / ordinary / complaining /
lost customers), derived from a customer's survey answers and complaint
history by rules kept as data.

A rule is ``{"class": name, "when": [[metric, op, number], ...]}``; the
first rule whose conditions all hold names the class, and a customer no rule
matches has none. The metrics, over the last ``SURVEY_CLASS_WINDOW_DAYS``:

* ``answers``: surveys answered; ``good_answers`` "solved" with 4 or more;
  ``bad_answers`` "not solved" or 2 or less; ``last_bad`` 1 when the latest
  answer was bad, else 0; ``avg_rating`` the average rating (0 without answers);
* ``complaints``: complaint tickets opened; ``tickets``: tickets of any kind;
* ``open_recoveries``: the customer's tickets still marked for recovery.

``SURVEY_CLASS_RULES`` replaces ``DEFAULT_RULES``.
"""
from __future__ import annotations

import operator
from datetime import timedelta

from sqlalchemy import and_, bindparam, case, func, or_, select

from service import sdk
from service.sdk import NOT_LOADED, Customer, Ticket, UTCDateTime, preloaded, utcnow

from .models import Recovery, Survey

METRICS = ("answers", "good_answers", "bad_answers", "last_bad", "avg_rating", "complaints", "tickets",
           "open_recoveries")
OPS = {">=": operator.ge, ">": operator.gt, "<=": operator.le, "<": operator.lt, "==": operator.eq,
       "!=": operator.ne}
CLASSES = ("loyal", "ordinary", "complaining", "lost")

DEFAULT_RULES = [
    # Let down again and again, the last time too: about to go, or gone.
    {"class": "lost", "when": [["bad_answers", ">=", 2], ["last_bad", "==", 1]]},
    # Unhappy now: the last answer was bad, a recovery is open, or complaints pile up.
    {"class": "complaining", "when": [["last_bad", "==", 1]]},
    {"class": "complaining", "when": [["open_recoveries", ">=", 1]]},
    {"class": "complaining", "when": [["complaints", ">=", 3]]},
    # Satisfied more than once and never let down.
    {"class": "loyal", "when": [["good_answers", ">=", 2], ["bad_answers", "==", 0]]},
    {"class": "ordinary", "when": [["tickets", ">=", 1]]},
    {"class": "ordinary", "when": [["answers", ">=", 1]]},
]


def check_rules(rules) -> tuple:
    """Validate class rules; return them as a tuple. Raises ``ValueError``
    naming ``SURVEY_CLASS_RULES[i]`` and what is wrong."""
    if not isinstance(rules, (list, tuple)) or not rules:
        raise ValueError("SURVEY_CLASS_RULES must be a non-empty list of rules")
    for i, rule in enumerate(rules):
        where = f"SURVEY_CLASS_RULES[{i}]"
        if not isinstance(rule, dict) or not isinstance(rule.get("class"), str) or not 1 <= len(rule["class"]) <= 20:
            raise ValueError(f"{where}: needs a class name of 1-20 characters")
        conditions = rule.get("when")
        if not isinstance(conditions, (list, tuple)) or not conditions:
            raise ValueError(f"{where}: needs a non-empty list 'when' of [metric, op, number]")
        for cond in conditions:
            if (not isinstance(cond, (list, tuple)) or len(cond) != 3 or cond[0] not in METRICS
                    or cond[1] not in OPS or isinstance(cond[2], bool) or not isinstance(cond[2], (int, float))):
                raise ValueError(f"{where}: {cond!r} is not [metric, op, number] with a metric of "
                                 f"{', '.join(METRICS)} and an op of {' '.join(OPS)}")
    return tuple(rules)


RAW = ("answers", "good_answers", "bad_answers", "rating_sum", "last_bad", "complaints", "tickets",
       "open_recoveries")  # what _columns selects, in order


def _columns(customer_id, since) -> list:
    """The scalar subqueries behind the metrics, in ``RAW`` order, for
    ``customer_id`` (a value, or ``Customer.id`` to correlate with the
    core's customer read) over answers and tickets since ``since``."""
    answered = (Survey.customer_id == customer_id, Survey.status == "answered", Survey.answered_at >= since)
    good = and_(Survey.solved.is_(True), Survey.rating >= 4)
    bad = or_(Survey.solved.is_not(True), Survey.rating <= 2)

    def count_of(condition):
        return select(func.count()).select_from(Survey).where(*answered, condition).scalar_subquery()

    mine = (Ticket.customer_id == customer_id, Ticket.created_at >= since)
    return [
        select(func.count()).select_from(Survey).where(*answered).scalar_subquery(),
        count_of(good), count_of(bad),
        select(func.sum(Survey.rating)).where(*answered).scalar_subquery(),
        select(case((bad, 1), else_=0)).where(*answered)
        .order_by(Survey.answered_at.desc(), Survey.id.desc()).limit(1).scalar_subquery(),
        select(func.count()).select_from(Ticket).where(*mine, Ticket.kind == "complaint").scalar_subquery(),
        select(func.count()).select_from(Ticket).where(*mine).scalar_subquery(),
        select(func.count(Recovery.id)).join(Ticket, Ticket.id == Recovery.ticket_id)
        .where(Ticket.customer_id == customer_id, Recovery.recovered_at.is_(None)).scalar_subquery(),
    ]


def _window_start():
    # Evaluated when a statement runs, not when it is built (see customer_columns).
    from .settings import survey_settings

    return utcnow() - timedelta(days=survey_settings().class_window_days)


def customer_columns() -> dict:
    """The metrics' subqueries for the core to read with a customer
    (``customer_columns`` hook), as ``satisfaction_survey.<raw metric>``: a
    page of customers then costs no query per customer for their class."""
    since = bindparam("satisfaction_window_start", callable_=_window_start, type_=UTCDateTime())
    return {f"satisfaction_survey.{name}": column for name, column in zip(RAW, _columns(Customer.id, since))}


def metrics(customer_id: int, window_days: int, now=None) -> dict:
    """The rule metrics of customer ``customer_id`` (see the module docstring),
    in one statement of scalar subqueries."""
    since = (now or utcnow()) - timedelta(days=window_days)
    return _metrics(sdk.db.session.execute(select(*_columns(customer_id, since))).one())


def _metrics(row) -> dict:
    answers, good_answers, bad_answers, rating_sum, last_bad, complaints, tickets, open_recoveries = row
    return {
        "answers": answers,
        "good_answers": good_answers,
        "bad_answers": bad_answers,
        "last_bad": int(bool(last_bad)),
        "avg_rating": round(int(rating_sum) / answers, 4) if answers else 0,
        "complaints": complaints,
        "tickets": tickets,
        "open_recoveries": open_recoveries or 0,
    }


def classify(values: dict, rules) -> str | None:
    """The class the first matching rule names for ``values``, or None."""
    for rule in rules:
        if all(OPS[op](values[metric], number) for metric, op, number in rule["when"]):
            return rule["class"]
    return None


def satisfaction_class(customer_id: int | None) -> str | None:
    """The customer's satisfaction class under the configured rules, or None."""
    from .settings import survey_settings

    if customer_id is None:
        return None
    settings = survey_settings()
    return classify(metrics(customer_id, settings.class_window_days), settings.class_rules)


def class_of(customer) -> str | None:
    """``satisfaction_class`` for the decider: from the metrics the core read
    with ``customer`` when it did, else by query."""
    from .settings import survey_settings

    row = [preloaded(customer, f"satisfaction_survey.{name}") for name in RAW]
    if any(value is NOT_LOADED for value in row):
        return satisfaction_class(getattr(customer, "id", None))
    return classify(_metrics(row), survey_settings().class_rules)
