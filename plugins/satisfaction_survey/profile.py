"""satisfaction_survey on the console's customer pages: the satisfaction
class column of the customer list (``customer_list_columns``, a filter),
the profile's satisfaction section with the survey history
(``customer_sections``), and the plugin's part of a merge of two customer
records (``merging_customers``: the duplicate's surveys move to the kept
record; their tickets were moved by the core).

The list filters on the class in SQL: the configured rules become one CASE
over the same metric subqueries the class is read with (``classes``), so
a page of customers filtered by class is one statement.
"""
from __future__ import annotations

import functools
from datetime import timedelta

from sqlalchemy import and_, bindparam, case, func, literal, select, update

from service import sdk
from service.sdk import Customer, UTCDateTime, utcnow
from service.sdk import gettext as _

from .classes import RAW, _columns, _metrics, _window_start, classify, customer_columns
from .models import Survey
from .settings import survey_settings
from .texts import staff_text

HISTORY = 10  # surveys shown on the profile, newest first


def class_label(name: str | None) -> str | None:
    """A class's name in the page's language (the four of DOMAIN.md
    translated; a company's own as configured)."""
    if name is None:
        return None
    from flask_babel import get_locale

    return _class_names(str(get_locale())).get(name, name)


@functools.lru_cache(maxsize=16)
def _class_names(locale: str) -> dict[str, str]:
    # Called with ``locale`` in force: the four names, made once per language.
    return {"loyal": _("Loyal"), "ordinary": _("Ordinary"), "complaining": _("Complaining"), "lost": _("Lost")}


_OPS = {">=": "__ge__", ">": "__gt__", "<=": "__le__", "<": "__lt__", "==": "__eq__", "!=": "__ne__"}


_BUILT: dict = {}  # id(rules) -> (rules, expression): built once per set of rules


def class_sql(rules=None):
    """The satisfaction class as one SQL expression for the core's customer
    read: the first rule whose conditions all hold, as ``classes.classify``
    decides it in Python (the same metrics, the same window). Built once per
    set of rules: the same expression object lets the core reuse its
    statement."""
    rules = survey_settings().class_rules if rules is None else rules
    built = _BUILT.get(id(rules))
    if built is None or built[0] is not rules:
        built = _BUILT[id(rules)] = (rules, _class_case(rules))
    return built[1]


def _class_case(rules):
    since = bindparam("satisfaction_window_start", callable_=_window_start, type_=UTCDateTime())
    raw = dict(zip(RAW, _columns(Customer.id, since)))
    answers = raw["answers"]
    value = {name: func.coalesce(raw[name], 0) for name in RAW if name != "rating_sum"}

    def condition(metric, op, number):
        # avg_rating op n  <=>  rating_sum op n * answers, when there are answers (else the average is 0).
        if metric == "avg_rating":
            with_answers = getattr(func.coalesce(raw["rating_sum"], 0), _OPS[op])(answers * number)
            return case((answers > 0, with_answers), else_=getattr(literal(0), _OPS[op])(number))
        return getattr(value[metric], _OPS[op])(number)

    whens = [(and_(*(condition(*c) for c in rule["when"])), literal(rule["class"])) for rule in rules]
    return case(*whens, else_=None)


def list_columns() -> list[sdk.CustomerListColumn]:
    """The class filter: choices the classes the configured rules name."""
    names = list(dict.fromkeys(rule["class"] for rule in survey_settings().class_rules))
    return [{"key": "satisfaction_survey.class", "label": _("Satisfaction class"), "expression": class_sql(),
             "choices": [{"value": n, "label": class_label(n)} for n in names]}]


@functools.cache
def _metrics_statement():
    # Built once (bound customer and window), as the core builds its reads.
    return select(*_columns(bindparam("customer_id"), bindparam("since", type_=UTCDateTime())))


@functools.cache
def _history_statement():
    return (select(Survey.ticket_id, Survey.round, Survey.status, Survey.solved, Survey.rating, Survey.answered_at,
                   Survey.sent_at, func.count().over().label("total"))
            .where(Survey.customer_id == bindparam("customer_id")).order_by(Survey.id.desc()).limit(HISTORY))


def profile_columns() -> dict:
    """For the core's read of a customer whose profile is shown: the class
    metrics (as for customers shown, ``classes.customer_columns``) and how
    many surveys the customer has (``satisfaction_survey.profile.surveys``)."""
    return {**customer_columns(), "satisfaction_survey.profile.surveys":
            select(func.count()).select_from(Survey).where(Survey.customer_id == Customer.id).scalar_subquery()}


def sections(customer) -> list[sdk.CustomerSection]:
    """The satisfaction section: class, answers and average rating over the
    class window, complaints; then the latest ``HISTORY`` surveys."""
    settings, t = survey_settings(), staff_text()
    # Read with the customer for the profile (``customer_columns``), else one statement.
    raw = [sdk.preloaded(customer, f"satisfaction_survey.{name}") for name in RAW]
    if any(value is sdk.NOT_LOADED for value in raw):
        since = utcnow() - timedelta(days=settings.class_window_days)
        raw = sdk.read(_metrics_statement(), {"customer_id": customer.id, "since": since}).one()
    values = _metrics(raw)
    rows: list[sdk.PanelRow] = [
        {"label": _("Satisfaction class"), "value": class_label(classify(values, settings.class_rules))
         or _("None yet"), "kind": "badge"},
        {"label": _("Answers in the last %(days)s days", days=settings.class_window_days),
         "value": values["answers"], "kind": "text"},
        {"label": _("Average rating"), "value": f"{values['avg_rating']:.1f}/5" if values["answers"] else "-",
         "kind": "text"},
        {"label": _("Complaints in the last %(days)s days", days=settings.class_window_days),
         "value": values["complaints"], "kind": "text"},
    ]
    # No statement for the history of a customer known to have no survey.
    known = sdk.preloaded(customer, "satisfaction_survey.profile.surveys")
    surveys = sdk.read(_history_statement(), {"customer_id": customer.id}).all() if known != 0 else []
    total = surveys[0].total if surveys else 0
    items = []
    for s in surveys:
        parts = [sdk.ticket_number(s.ticket_id), t["status"].get(s.status, s.status)]
        if s.solved is not None:
            parts.append(f"{t['solved']}: {t['yes'] if s.solved else t['no']}")
        if s.rating is not None:
            parts.append(f"{t['rating']}: {s.rating}/5")
        when = s.answered_at or s.sent_at
        if when is not None:
            parts.append(when.strftime("%Y-%m-%d"))
        items.append(" · ".join(p for p in parts if p))
    rows.append({"label": _("Surveys (%(count)s)", count=total), "value": str(total), "kind": "list",
                 "items": items or [_("No surveys yet")]})
    return [{"key": "satisfaction", "title": _("Satisfaction"), "rows": rows}]


def merge(kept, merged) -> list[sdk.MergeMoved]:
    """Move the duplicate's surveys to the kept record; answer how many."""
    moved = sdk.db.session.execute(update(Survey).where(Survey.customer_id == merged.id)
                                   .values(customer_id=kept.id).execution_options(synchronize_session=False)).rowcount
    return [{"key": "surveys", "label": _("Surveys"), "count": moved}]

