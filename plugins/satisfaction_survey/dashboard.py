"""satisfaction_survey's parts of the supervisor dashboard: the weekly CSAT
trend over the period with the period before (``dashboard_charts``), CSAT as
a tile (``dashboard_kpis``) and per agent and department
(``report_columns``), from the plugin's own report (``reports.figures``) and
one GROUP BY per figure."""
from __future__ import annotations

from flask_babel import format_date
from flask_babel import gettext as _
from sqlalchemy import and_, case, func, select

from service import sdk

from .models import Survey
from .reports import figures


def _percent(value):
    return None if value is None else round(100 * value, 1)


def charts(period) -> list[dict]:
    """One line chart: CSAT (share of ratings 4-5) per ISO week of delivery
    over ``period``, the same for the period before (aligned week by week),
    and the response rate; percent, None where a week had no answer."""
    rows = {_monday(r["group"]): r
            for r in figures("week", since=period.previous.since, until=period.until) if r["group"]}
    now = [rows.get(w) for w in period.weeks]
    before = [rows.get(w) for w in period.previous.weeks][-len(now):]
    before = [None] * (len(now) - len(before)) + before
    return [{"key": "csat_trend", "title": _("Customer satisfaction by week (CSAT, response rate)"),
             "kind": "line", "labels": [format_date(w, "MM-dd") for w in period.weeks],
             "series": [{"name": _("CSAT"), "values": [_percent(r and r["csat"]) for r in now]},
                        {"name": _("CSAT, previous period"), "values": [_percent(r and r["csat"]) for r in before]},
                        {"name": _("Response rate"), "values": [_percent(r and r["response_rate"]) for r in now]}],
             "unit": "%", "label_title": _("Week (starting Monday) the surveys were sent"),
             "value_title": _("Share of answers / of surveys")}]


def _monday(iso_week: str):
    # "2026-W48" -> the Monday of that ISO week.
    from datetime import date

    year, week = iso_week.split("-W")
    return date.fromisocalendar(int(year), int(week), 1)


def kpis(period) -> list[dict]:
    """The CSAT tile: the share of answers rating 4 or 5 among surveys sent
    in the period, and in the one before."""
    def csat(since, until):
        rows = figures("all", since=since, until=until)
        return _percent(rows[0]["csat"]) if rows else None

    return [{"key": "csat", "label": _("CSAT (ratings 4-5)"), "unit": "%", "better": "up",
             "value": csat(period.since, period.until), "previous": csat(period.previous.since, period.previous.until)}]


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
