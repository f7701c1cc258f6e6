"""satisfaction_survey's parts of the supervisor dashboard: the weekly CSAT
trend over the period with the period before (``dashboard_charts``), CSAT as
a tile (``dashboard_kpis``) and per agent and department
(``report_columns``), counted as the plugin's report (``reports.figures``)
counts, with one GROUP BY per figure."""
from __future__ import annotations

from datetime import date

from flask import g, has_request_context
from flask_babel import format_date
from sqlalchemy import Date, and_, case, cast, func, select

from service import sdk
from service.sdk import gettext as _

from .models import Survey


def _percent(value):
    return None if value is None else round(100 * value, 1)


def _by_day(period) -> list[tuple]:
    """(day, sent, answered, rated 4-5) per day of delivery over the period
    and the one before: one GROUP BY over the surveys alone, counted as
    ``reports.figures`` counts (sent or answered surveys, by delivery time),
    read once per request (the chart and the tile share it)."""
    key = ("satisfaction_survey.by_day", period)
    cache = g.setdefault("kefu_survey_dashboard", {}) if has_request_context() else {}
    if key not in cache:
        answered = Survey.status == "answered"
        day = (func.date(Survey.sent_at) if sdk.db.session.get_bind().dialect.name == "sqlite"
               else cast(Survey.sent_at, Date))
        stmt = (select(day, func.count(), func.coalesce(func.sum(case((answered, 1), else_=0)), 0),
                       func.coalesce(func.sum(case((and_(answered, Survey.rating >= 4), 1), else_=0)), 0))
                .where(Survey.sent_at >= period.previous.since, Survey.sent_at < period.until,
                       Survey.status.in_(("sent", "answered"))).group_by(day))
        cache[key] = [(_date(d), int(n), int(a), int(c)) for d, n, a, c in sdk.db.session.execute(stmt)]
    return cache[key]


def _date(value) -> date:
    return value if isinstance(value, date) else date.fromisoformat(str(value)[:10])


def _ratio(part: int, whole: int) -> float | None:
    return round(100 * part / whole, 1) if whole else None


def charts(period) -> list[dict]:
    """One line chart: CSAT (share of ratings 4-5 among answers) per ISO week
    of delivery over ``period``, the same for the period before (aligned week
    by week), and the response rate; percent, None where a week had no answer."""
    weeks: dict = {}
    for day, sent, answered, good in _by_day(period):
        acc = weeks.setdefault(period.week_of(day), [0, 0, 0])
        for i, v in enumerate((sent, answered, good)):
            acc[i] += v
    now = [weeks.get(w) for w in period.weeks]
    before = [weeks.get(w) for w in period.previous.weeks][-len(now):]
    before = [None] * (len(now) - len(before)) + before

    def csat(w):
        return None if w is None else _ratio(w[2], w[1])

    return [{"key": "csat_trend", "title": _("Customer satisfaction by week (CSAT, response rate)"),
             "kind": "line", "labels": [format_date(w, "MM-dd") for w in period.weeks],
             "series": [{"name": _("CSAT"), "values": [csat(w) for w in now]},
                        {"name": _("CSAT, previous period"), "values": [csat(w) for w in before]},
                        {"name": _("Response rate"), "values": [None if w is None else _ratio(w[1], w[0])
                                                                for w in now]}],
             "unit": "%", "label_title": _("Week (starting Monday) the surveys were sent"),
             "value_title": _("Share of answers / of surveys")}]


def kpis(period) -> list[dict]:
    """The CSAT tile: the share of answers rating 4 or 5 among surveys sent
    in the period, and in the one before."""
    totals = {True: [0, 0], False: [0, 0]}
    for day, _sent, answered, good in _by_day(period):
        acc = totals[day >= period.start]
        acc[0] += answered
        acc[1] += good
    return [{"key": "csat", "label": _("CSAT (ratings 4-5)"), "unit": "%", "better": "up",
             "value": _ratio(totals[True][1], totals[True][0]),
             "previous": _ratio(totals[False][1], totals[False][0])}]


def report_columns(period, by: str) -> list[dict]:
    """CSAT per agent (the assignee at the resolution) or department, over
    the surveys sent in the period. One query."""
    group = Survey.agent_id if by == "agent" else Survey.department_id
    answered = Survey.status == "answered"
    stmt = (select(group, func.coalesce(func.sum(case((answered, 1), else_=0)), 0),
                   func.coalesce(func.sum(case((and_(answered, Survey.rating >= 4), 1), else_=0)), 0))
            .where(Survey.sent_at >= period.since, Survey.sent_at < period.until,
                   Survey.status.in_(("sent", "answered"))).group_by(group))
    values = {("" if key is None else str(key)): (round(100 * int(good) / int(n), 1) if n else None)
              for key, n, good in sdk.db.session.execute(stmt)}
    return [{"key": "csat", "label": _("CSAT (ratings 4-5)"), "unit": "%", "values": values}]
