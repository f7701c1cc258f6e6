"""What the supervisor dashboard shows, named and translated: the core's
charts (with the period before as a second series and a link per bar to the
tickets behind it), the KPI tiles (the core's and the plugins'), and the
per-agent and per-department reports. Counting is in ``service.reads.reports``.
"""
from __future__ import annotations

from datetime import timedelta

from flask import url_for
from flask_babel import format_date
from sqlalchemy import select

from service.domain.workflow import STATUSES
from service.extensions import db
from service.hooks.types import ReportPeriod
from service.models import Category, Department, Staff
from service.models.base import utcnow
from service.reads import panels, reports
from service.translate import gettext as _
from service.web.i18n import label, local_name


def queue_link(period: ReportPeriod | None = None, **filters) -> str:
    """The console's "all tickets" queue filtered to ``filters`` (codes) and,
    with ``period``, to tickets created in it (dates, ``to`` included)."""
    if period is not None:
        filters.update(created_from=period.start.isoformat(), created_to=period.end.isoformat())
    return url_for("console_queues.queue", name="all", **filters)


def week_label(monday) -> str:
    """A week on an axis: its Monday as month-day in the page's language."""
    return format_date(monday, "MM-dd")


def week_period(monday, period: ReportPeriod) -> ReportPeriod:
    """The days of the week starting ``monday`` that fall in ``period``."""
    return ReportPeriod(max(monday, period.start), min(monday + timedelta(days=6), period.end))


def core_charts(period: ReportPeriod, figures: reports.Figures | None = None) -> list[dict]:
    """The core's charts over ``period``, each with the period before as the
    second series: complaints by category (Pareto), tickets created per
    week, tickets by status and by department (created in the period).
    Two queries (``figures``' created summary, and the days)."""
    figures = figures or reports.Figures(period)
    now_name, before_name = _("This period"), _("Previous period")
    # In the categories' own order, so that equal bars keep it (the Pareto sort is stable).
    categories = {c.id: c for c in db.session.scalars(select(Category).order_by(Category.position, Category.id))}
    departments = {d.id: d for d in db.session.scalars(select(Department).order_by(Department.id))}

    by_category = reports.tally(figures.created, "category_id", kind="complaint")
    by_category = [(c, by_category[cid]) for cid, c in categories.items() if cid in by_category]
    weeks_now, weeks_before = reports.created_by_week(period)
    by_status = reports.tally(figures.created, "status")
    by_department = reports.tally(figures.created, "department_id")
    dept_rows = [(d, by_department.get(d.id, (0, 0))) for d in departments.values()]
    unrouted = by_department.get(None, (0, 0))
    tickets = _("Tickets")
    return [
        {"key": "complaints_by_category", "title": _("Complaints by category (Pareto)"), "kind": "pareto",
         "labels": [local_name(c) for c, _n in by_category],
         "series": [{"name": now_name, "values": [n[0] for _c, n in by_category]},
                    {"name": before_name, "values": [n[1] for _c, n in by_category]}],
         "links": [queue_link(period, kind="complaint", category=c.code) for c, _n in by_category],
         "label_title": _("Category"), "value_title": _("Complaints"), "unit": None},
        {"key": "tickets_by_week", "title": _("Tickets opened by week"), "kind": "line",
         "labels": [week_label(w) for w in period.weeks],
         "series": [{"name": now_name, "values": weeks_now}, {"name": before_name, "values": weeks_before}],
         "links": [queue_link(week_period(w, period)) for w in period.weeks],
         "label_title": _("Week (starting Monday)"), "value_title": tickets, "unit": None},
        {"key": "tickets_by_status", "title": _("Tickets opened in the period, by status now"), "kind": "bar",
         "labels": [label("status", s) for s in STATUSES],
         "series": [{"name": now_name, "values": [by_status.get(s, (0, 0))[0] for s in STATUSES]},
                    {"name": before_name, "values": [by_status.get(s, (0, 0))[1] for s in STATUSES]}],
         "links": [queue_link(period, status=s) for s in STATUSES],
         "label_title": _("Status"), "value_title": tickets, "unit": None},
        {"key": "tickets_by_department", "title": _("Tickets opened in the period, by department"), "kind": "bar",
         "labels": [local_name(d) for d, _n in dept_rows] + [_("No department yet")],
         "series": [{"name": now_name, "values": [n[0] for _d, n in dept_rows] + [unrouted[0]]},
                    {"name": before_name, "values": [n[1] for _d, n in dept_rows] + [unrouted[1]]}],
         "links": [queue_link(period, department=d.code) for d, _n in dept_rows] + [None],
         "label_title": _("Department"), "value_title": tickets, "unit": None},
    ]


def _tile(key, text, value, previous, unit=None, better=None) -> dict:
    return {"key": key, "label": text, "value": value, "previous": previous, "unit": unit, "better": better}


def kpis(staff: Staff, period: ReportPeriod, figures: reports.Figures | None = None) -> list[dict]:
    """The tiles: the core's figures and the plugins' (``dashboard_kpis``),
    each with the previous period's value, the change and whether it is
    better or worse. Open tickets and their ages are counted at the end of
    each period; "new today" is compared with yesterday."""
    figures = figures or reports.Figures(period)
    now_backlog = reports.backlog(period.until)
    before_backlog = reports.backlog(period.previous.until)
    midnight = utcnow().replace(hour=0, minute=0, second=0, microsecond=0)
    today = reports.created_between(midnight, midnight + timedelta(days=1))
    yesterday = reports.created_between(midnight - timedelta(days=1), midnight)
    resolved = reports.resolved_figures(figures.resolved)
    created_now, created_before = reports.created_totals(figures.created)
    days = _("days")
    first = [
        _tile("open", _("Open tickets"), now_backlog["open"], before_backlog["open"], None, "down"),
        _tile("new_today", _("New today (yesterday)"), today, yesterday),
        _tile("created", _("New in the period"), created_now, created_before),
    ]
    last = [
        _tile("reopen_rate", _("Reopen rate (resolved in the period)"), reports.share(*resolved["now"][::-1]),
              reports.share(*resolved["before"][::-1]), "%", "down"),
        _tile("backlog_median", _("Median age of open tickets"), now_backlog["median_days"],
              before_backlog["median_days"], days, "down"),
        _tile("backlog_oldest", _("Oldest open ticket"), now_backlog["oldest_days"], before_backlog["oldest_days"],
              days, "down"),
    ]
    return [_with_change(t) for t in first + panels.dashboard_kpis(staff, period) + last]


def _with_change(tile: dict) -> dict:
    value, previous = tile["value"], tile["previous"]
    change = None if value is None or previous is None else round(value - previous, 1)
    trend = None
    if change and tile.get("better"):
        trend = "better" if (change > 0) == (tile["better"] == "up") else "worse"
    return {**tile, "change": change, "trend": trend}


def group_report(staff: Staff, period: ReportPeriod, by: str, figures: reports.Figures | None = None) -> dict:
    """The per-agent (``by="agent"``) or per-department report: per group the
    tickets resolved in the period (handled), their reopen rate, and the
    plugins' columns (``report_columns``: business-time durations, CSAT).
    ``{"key", "title", "group_title", "columns": [{"key", "label", "unit"}],
    "rows": [{"name", "values": [...]}]}``, most handled first."""
    figures = figures or reports.Figures(period)
    handled = {("" if k is None else str(k)): v for k, v in reports.handled_by(figures.resolved, by).items()}
    extra = panels.report_columns(staff, period, by)
    groups = set(handled) | {g for c in extra for g, v in c["values"].items() if v is not None}
    model = Staff if by == "agent" else Department
    ids = [int(g) for g in groups if g.isdigit()]
    rows_by_id = {str(r.id): r for r in db.session.scalars(select(model).where(model.id.in_(ids)))} if ids else {}
    nobody = _("Nobody assigned") if by == "agent" else _("No department")
    rows = []
    for g in groups:
        if g and g not in rows_by_id:
            continue  # a plugin's key for a row that does not exist
        n, reopened = handled.get(g, (0, 0))
        name = nobody if not g else (rows_by_id[g].name if by == "agent" else local_name(rows_by_id[g]))
        rows.append({"name": name, "handled": n,
                     "values": [n, reports.share(reopened, n)] + [c["values"].get(g) for c in extra]})
    rows.sort(key=lambda r: (-r["handled"], r["name"]))
    columns = [{"key": "handled", "label": _("Handled (resolved in the period)"), "unit": None},
               {"key": "reopen_rate", "label": _("Reopen rate"), "unit": "%"}]
    columns += [{"key": c["key"], "label": c["label"], "unit": c["unit"]} for c in extra]
    return {"key": "agents" if by == "agent" else "departments",
            "title": _("By agent") if by == "agent" else _("By department"),
            "group_title": _("Agent") if by == "agent" else _("Department"), "columns": columns, "rows": rows}
