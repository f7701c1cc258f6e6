"""tier_sla's parts of the supervisor dashboard: weekly trends of the SLA
targets met (``dashboard_charts``), the share met as KPI tiles
(``dashboard_kpis``), business-time durations per agent and department
(``report_columns``), and customers and revenue by tier.

Tickets are placed by the start of their SLA clock (when they were
opened). Targets are counted as in ``sla_report.compliance``: a target counts once
achieved (met when its business minutes are within the target) or, not
achieved, once its due time has passed (missed). Here it is counted in SQL
(one GROUP BY per figure, over days), so the dashboard costs the same for a
hundred tickets as for a hundred thousand.
"""
from __future__ import annotations

from datetime import date, timedelta

from flask import g, has_request_context, url_for
from flask_babel import format_date
from sqlalchemy import Date, and_, case, cast, func, select

from service import sdk
from service.sdk import gettext as _

from .labels import tier_name
from .models import TicketSla
from .tier_report import report

TARGETS = ("first_response", "resolution")


def _counts(target: str, now):
    """SQL sums of (met, missed) for one target (see the module doc)."""
    achieved = getattr(TicketSla, f"{target}_business_minutes")
    minutes = getattr(TicketSla, f"{target}_minutes")
    due = getattr(TicketSla, f"{target}_due")
    counted = and_(minutes.is_not(None), minutes > 0)
    met = and_(counted, achieved.is_not(None), achieved <= minutes)
    missed = and_(counted, ((achieved.is_not(None)) & (achieved > minutes))
                  | (achieved.is_(None) & due.is_not(None) & (due < now)))
    return (func.coalesce(func.sum(case((met, 1), else_=0)), 0),
            func.coalesce(func.sum(case((missed, 1), else_=0)), 0))


def _day(column):
    return func.date(column) if sdk.db.session.get_bind().dialect.name == "sqlite" else cast(column, Date)


def _date(value):
    return value if isinstance(value, date) else date.fromisoformat(str(value)[:10])


def _percent(met: int, missed: int) -> float | None:
    return round(100 * met / (met + missed), 1) if met + missed else None


def _by_day(period) -> list[tuple]:
    """(day, fr_met, fr_missed, res_met, res_missed) per day a ticket's SLA
    clock started (when it was opened), over the period and the one before.
    One query over the clocks alone (no join), read once per request: the
    charts and the tiles share it."""
    key = ("tier_sla.sla_by_day", period)
    cache = g.setdefault("kefu_tier_sla_dashboard", {}) if has_request_context() else {}
    if key not in cache:
        day = _day(TicketSla.started_at)
        now = sdk.utcnow()
        stmt = (select(day, *_counts("first_response", now), *_counts("resolution", now))
                .where(TicketSla.started_at >= period.previous.since, TicketSla.started_at < period.until)
                .group_by(day))
        cache[key] = [tuple(r) for r in sdk.db.session.execute(stmt)]
    return cache[key]


def _weekly(rows, period) -> dict:
    # {target: ([percent per week of the period], [per week of the period before])}
    sums = {}
    for day, *values in rows:
        key = period.week_of(day)
        acc = sums.setdefault(key, [0, 0, 0, 0])
        for i, v in enumerate(values):
            acc[i] += int(v)
    out = {}
    for t, target in enumerate(TARGETS):
        now = [_percent(*sums.get(w, [0] * 4)[2 * t:2 * t + 2]) for w in period.weeks]
        before = [_percent(*sums.get(w, [0] * 4)[2 * t:2 * t + 2]) for w in period.previous.weeks]
        before = before[-len(now):]
        out[target] = (now, [None] * (len(now) - len(before)) + before)
    return out


def _week_link(monday, period) -> str:
    start, end = max(monday, period.start), min(monday + timedelta(days=6), period.end)
    return url_for("console_queues.queue", name="all", created_from=start.isoformat(), created_to=end.isoformat())


def charts(period) -> list[dict]:
    """First responses and resolutions on time per week of ``period`` (this
    period and the one before, as lines), and customers and revenue by
    effective tier (the tier tickets are tagged with; today's, not the period's),
    each tier's bars leading to its customers."""
    weekly = _weekly(_by_day(period), period)
    labels = [format_date(w, "MM-dd") for w in period.weeks]
    links = [_week_link(w, period) for w in period.weeks]
    titles = {"first_response": _("First responses on time, by week"), "resolution": _("Resolutions on time, by week")}
    out = [{"key": f"sla_{target}", "title": titles[target], "kind": "line", "labels": labels,
            "series": [{"name": _("This period"), "values": weekly[target][0]},
                       {"name": _("Previous period"), "values": weekly[target][1]}],
            "unit": "%", "links": links, "label_title": _("Week (starting Monday) the tickets were opened"),
            "value_title": _("Share of targets met")} for target in TARGETS]
    tiers = report(effective=True)["tiers"]
    out.append({"key": "tiers_by_revenue", "title": _("Customers and revenue by tier (share of all, today)"),
                "kind": "bar", "labels": [tier_name(t["tier"]) for t in tiers],
                "series": [{"name": _("Customers"), "values": [round(100 * t["customer_share"], 1) for t in tiers]},
                           {"name": _("Revenue"), "values": [round(100 * t["revenue_share"], 1) for t in tiers]}],
                "unit": "%", "label_title": _("Tier"), "value_title": _("Share of all"),
                # A bar leads to the tier's customers (the customer list's tier filter).
                "links": [url_for("console_customers.index", **{"tier_sla.tier": t["tier"]}) for t in tiers]})
    return out


def kpis(period) -> list[dict]:
    """Tiles: the share of first responses and of resolutions on time, for
    tickets opened in the period and in the one before (from ``_by_day``)."""
    now_counts, before_counts = [0] * 4, [0] * 4
    for day, *values in _by_day(period):
        target = now_counts if _date(day) >= period.start else before_counts
        for i, v in enumerate(values):
            target[i] += int(v)
    names = {"first_response": _("First responses on time"), "resolution": _("Resolutions on time")}
    return [{"key": f"sla_{target}_met", "label": names[target], "unit": "%", "better": "up",
             "value": _percent(*now_counts[2 * t:2 * t + 2]), "previous": _percent(*before_counts[2 * t:2 * t + 2])}
            for t, target in enumerate(TARGETS)]


def report_columns(period, by: str) -> list[dict]:
    """Per agent or department: the average business hours to the first
    response and to the resolution, over tickets resolved in the period
    (business time on each ticket's SLA calendar, pauses left out). One
    query for both groupings (sums and counts per agent and department,
    read once per request)."""
    key = ("tier_sla.report_sums", period)
    cache = g.setdefault("kefu_tier_sla_dashboard", {}) if has_request_context() else {}
    if key not in cache:
        Ticket = sdk.Ticket
        fr, res = TicketSla.first_response_business_minutes, TicketSla.resolution_business_minutes
        stmt = (select(Ticket.assignee_id, Ticket.department_id, func.sum(fr), func.count(fr), func.sum(res),
                       func.count(res))
                .join(Ticket, Ticket.id == TicketSla.ticket_id)
                .where(Ticket.resolved_at >= period.since, Ticket.resolved_at < period.until)
                .group_by(Ticket.assignee_id, Ticket.department_id))
        cache[key] = [tuple(r) for r in sdk.db.session.execute(stmt)]
    sums: dict = {}
    for agent, department, fr_sum, fr_n, res_sum, res_n in cache[key]:
        group = agent if by == "agent" else department
        acc = sums.setdefault("" if group is None else str(group), [0.0, 0, 0.0, 0])
        acc[0] += float(fr_sum or 0)
        acc[1] += int(fr_n)
        acc[2] += float(res_sum or 0)
        acc[3] += int(res_n)

    def hours(total, n):
        return round(total / n / 60, 1) if n else None

    first = {g_: hours(a[0], a[1]) for g_, a in sums.items()}
    resolution = {g_: hours(a[2], a[3]) for g_, a in sums.items()}
    # The label names the unit (hours): no second unit after it.
    return [{"key": "first_response_business_hours", "label": _("First response (business hours, average)"),
             "unit": None, "values": first},
            {"key": "resolution_business_hours", "label": _("Resolution (business hours, average)"),
             "unit": None, "values": resolution}]
