"""The figures of the supervisor dashboard, counted in SQL over a period and
the period before it (``ReportPeriod``): one query per chart, grouped by
code or id or by day (days are folded into ISO weeks in Python, because the
databases disagree on week numbers, not on dates).

Everything here is codes, ids and numbers; the web layer names and
translates them (``service.web.report_views``).
"""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Date, and_, case, cast, func, or_, select

from service.domain.workflow import OPEN_STATUSES
from service.extensions import db
from service.hooks.types import ReportPeriod
from service.models import Ticket
from service.models.base import utcnow


def _in(column, period: ReportPeriod):
    return and_(column >= period.since, column < period.until)


def _both(column, period: ReportPeriod):
    # The period and the one before it, in one range (one index scan).
    return and_(column >= period.previous.since, column < period.until)


def _now_count(column, period: ReportPeriod):
    return func.coalesce(func.sum(case((column >= period.since, 1), else_=0)), 0)


def _before_count(column, period: ReportPeriod):
    return func.coalesce(func.sum(case((column < period.since, 1), else_=0)), 0)


def day_of(column):
    """The SQL expression of a timestamp's UTC day (a date on PostgreSQL, an
    ISO string on SQLite: ``ReportPeriod.week_of`` reads both)."""
    if db.session.get_bind().dialect.name == "sqlite":
        return func.date(column)
    return cast(column, Date)


def counts_by(column, period: ReportPeriod, *conditions) -> dict:
    """Tickets created in the period and in the one before, by ``column``
    (a ticket column: status, category_id, department_id, ...), among those
    matching ``conditions``: ``{value: (now, before)}``. One query."""
    stmt = (select(column, _now_count(Ticket.created_at, period), _before_count(Ticket.created_at, period))
            .where(_both(Ticket.created_at, period), *conditions).group_by(column))
    return {value: (int(now), int(before)) for value, now, before in db.session.execute(stmt)}


def created_by_week(period: ReportPeriod, *conditions) -> tuple[list[int], list[int]]:
    """Tickets created per ISO week of the period, and per week of the period
    before (aligned: the n-th week before the period's n-th), one query
    grouped by day. Weeks cut by the period's edges count only its days."""
    stmt = (select(day_of(Ticket.created_at), func.count())
            .where(_both(Ticket.created_at, period), *conditions).group_by(day_of(Ticket.created_at)))
    now = dict.fromkeys(period.weeks, 0)
    before = dict.fromkeys(period.previous.weeks, 0)
    for day, n in db.session.execute(stmt):
        week = ReportPeriod.week_of(day)
        target = now if _day(day) >= period.start else before
        if week in target:
            target[week] += int(n)
    return list(now.values()), _aligned(list(before.values()), len(now))


def _day(value) -> date:
    return value if isinstance(value, date) else date.fromisoformat(str(value)[:10])


def _aligned(values: list, length: int) -> list:
    # The previous period may touch one week more or less than this one:
    # align on the last week (the weeks just before this period's start).
    values = values[-length:]
    return [None] * (length - len(values)) + values


def open_at(moment: datetime):
    """The condition "open at ``moment``": the status now when ``moment`` is
    now or later; before, created earlier and not yet resolved, closed or
    cancelled then (a ticket reopened after ``moment`` counts as it was)."""
    if moment >= utcnow():
        return Ticket.status.in_(OPEN_STATUSES)
    return and_(Ticket.created_at < moment,
                *[or_(col.is_(None), col >= moment)
                  for col in (Ticket.resolved_at, Ticket.closed_at, Ticket.cancelled_at)])


def backlog(moment: datetime) -> dict:
    """The open tickets at ``moment``: ``{"open", "median_days",
    "oldest_days"}`` (ages in days at ``moment``, one decimal; None when
    none were open). Two queries: the count and oldest, then the median."""
    moment = min(moment, utcnow())
    n, oldest = db.session.execute(select(func.count(), func.min(Ticket.created_at)).where(open_at(moment))).one()
    if not n:
        return {"open": 0, "median_days": None, "oldest_days": None}
    middle = db.session.scalar(select(Ticket.created_at).where(open_at(moment))
                               .order_by(Ticket.created_at).offset((n - 1) // 2).limit(1))

    def age(at):
        if isinstance(at, str):  # a bare aggregate over SQLite: no column type to convert it
            at = datetime.fromisoformat(at)
        if at.tzinfo is None:
            at = at.replace(tzinfo=moment.tzinfo)
        return round((moment - at).total_seconds() / 86400, 1)

    return {"open": int(n), "median_days": age(middle), "oldest_days": age(oldest)}


def created_between(since: datetime, until: datetime) -> int:
    """Tickets created in [since, until)."""
    return int(db.session.scalar(select(func.count()).select_from(Ticket)
                                 .where(Ticket.created_at >= since, Ticket.created_at < until)))


def resolved_figures(period: ReportPeriod) -> dict:
    """Tickets resolved in the period and the one before (by their last
    resolution), and how many of them were ever reopened: ``{"now":
    (resolved, reopened), "before": (...)}``. One query."""
    reopened = Ticket.reopen_count > 0
    row = db.session.execute(select(
        _now_count(Ticket.resolved_at, period), _before_count(Ticket.resolved_at, period),
        func.coalesce(func.sum(case((and_(Ticket.resolved_at >= period.since, reopened), 1), else_=0)), 0),
        func.coalesce(func.sum(case((and_(Ticket.resolved_at < period.since, reopened), 1), else_=0)), 0),
    ).where(_both(Ticket.resolved_at, period))).one()
    return {"now": (int(row[0]), int(row[2])), "before": (int(row[1]), int(row[3]))}


def share(part: int, whole: int) -> float | None:
    """``part`` of ``whole`` in percent, one decimal; None of nothing."""
    return round(100 * part / whole, 1) if whole else None


def handled_by(column, period: ReportPeriod) -> dict:
    """Per value of ``column`` (``Ticket.assignee_id`` or
    ``Ticket.department_id``): tickets resolved in the period and how many
    of them were reopened: ``{value: (handled, reopened)}``. One query."""
    stmt = (select(column, func.count(), func.coalesce(func.sum(case((Ticket.reopen_count > 0, 1), else_=0)), 0))
            .where(_in(Ticket.resolved_at, period)).group_by(column))
    return {value: (int(n), int(reopened)) for value, n, reopened in db.session.execute(stmt)}
