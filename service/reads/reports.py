"""The figures of the supervisor dashboard, counted in SQL over a period and
the period before it (``ReportPeriod``): one query per chart, grouped by
code or id or by day (days are folded into ISO weeks in Python, because the
databases disagree on week numbers, not on dates).

Everything here is codes, ids and numbers; the web layer names and
translates them (``service.web.report_views``).
"""
from __future__ import annotations

import functools
from datetime import date, datetime

from sqlalchemy import Date, and_, case, cast, func, literal_column, or_, select

from service.domain.workflow import OPEN_STATUSES
from service.extensions import db
from service.hooks.types import ReportPeriod
from service.models import Ticket
from service.models.base import UTCDateTime, utcnow


def _both(column, period: ReportPeriod):
    # The period and the one before it, in one range (one index scan).
    return and_(column >= period.previous.since, column < period.until)


def day_of(column):
    """The SQL expression of a timestamp's UTC day (a date on PostgreSQL, an
    ISO string on SQLite: ``ReportPeriod.week_of`` reads both)."""
    if db.session.get_bind().dialect.name == "sqlite":
        return func.date(column)
    return cast(column, Date)


def created_summary(period: ReportPeriod) -> list[tuple]:
    """Tickets created in the period and in the one before, counted by
    ``(now, kind, status, category_id, department_id)`` (``now`` true for
    the period, false for the one before): one scan of the created-at index
    from which every "by category / status / department" figure is read
    (``tally``). At most a few thousand rows, whatever the number of tickets."""
    def count(condition):
        return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)

    groups = (Ticket.kind, Ticket.status, Ticket.category_id, Ticket.department_id)
    created = Ticket.created_at
    if db.session.get_bind().dialect.name == "sqlite":
        # "+column" keeps SQLite off the created-at index: it then reads
        # ix_tickets_report_groups in group order (no sort) instead of
        # taking the range and sorting it (70 ms instead of 280 for 100,000).
        created = literal_column("+tickets.created_at", type_=UTCDateTime())
    stmt = (select(*groups, count(created >= period.since), count(created < period.since))
            .where(_both(created, period)).group_by(*groups))
    out = []
    for kind, status, category, department, now, before in db.session.execute(stmt):
        out += [(flag, kind, status, category, department, int(n)) for flag, n in ((True, now), (False, before)) if n]
    return out


FIELDS = {"kind": 1, "status": 2, "category_id": 3, "department_id": 4}


def tally(summary: list[tuple], by: str, **where) -> dict:
    """From ``created_summary`` rows: ``{value of by: (now, before)}`` among
    rows whose fields equal ``where`` (e.g. ``kind="complaint"``)."""
    out: dict = {}
    for row in summary:
        if any(row[FIELDS[k]] != v for k, v in where.items()):
            continue
        now, before = out.get(row[FIELDS[by]], (0, 0))
        out[row[FIELDS[by]]] = (now + row[5], before) if row[0] else (now, before + row[5])
    return out


def created_totals(summary: list[tuple]) -> tuple[int, int]:
    """Tickets created in the period and in the one before, from ``created_summary`` rows."""
    return sum(r[5] for r in summary if r[0]), sum(r[5] for r in summary if not r[0])


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
    none were open; the median of an even count is the older of the two
    middle tickets). One query on PostgreSQL; on SQLite two (the count and
    oldest, then the median)."""
    moment = min(moment, utcnow())
    if db.session.get_bind().dialect.name == "postgresql":  # the median in the same query
        n, oldest, middle = db.session.execute(select(
            func.count(), func.min(Ticket.created_at),
            func.percentile_disc(0.5).within_group(Ticket.created_at)).where(open_at(moment))).one()
    else:
        n, oldest = db.session.execute(select(func.count(), func.min(Ticket.created_at))
                                       .where(open_at(moment))).one()
        middle = db.session.scalar(select(Ticket.created_at).where(open_at(moment))
                                   .order_by(Ticket.created_at).offset((n - 1) // 2).limit(1)) if n else None
    if not n:
        return {"open": 0, "median_days": None, "oldest_days": None}

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


def resolved_summary(period: ReportPeriod) -> list[tuple]:
    """Tickets resolved (last resolution) in the period and in the one before,
    counted by ``(now, assignee_id, department_id, reopened)`` (``reopened``:
    reopened at least once): one scan of the resolved-at index, from which the
    reopen rates and the per-agent and per-department figures are read."""
    now = Ticket.resolved_at >= period.since
    reopened = case((Ticket.reopen_count > 0, 1), else_=0)
    stmt = (select(now, Ticket.assignee_id, Ticket.department_id, reopened, func.count())
            .where(_both(Ticket.resolved_at, period))
            .group_by(now, Ticket.assignee_id, Ticket.department_id, reopened))
    return [(bool(r[0]), r[1], r[2], bool(r[3]), int(r[4])) for r in db.session.execute(stmt)]


def resolved_figures(summary: list[tuple]) -> dict:
    """From ``resolved_summary`` rows: ``{"now": (resolved, reopened),
    "before": (resolved, reopened)}``."""
    out = {"now": [0, 0], "before": [0, 0]}
    for now, _agent, _department, reopened, n in summary:
        key = "now" if now else "before"
        out[key][0] += n
        out[key][1] += n if reopened else 0
    return {k: tuple(v) for k, v in out.items()}


def handled_by(summary: list[tuple], by: str) -> dict:
    """From ``resolved_summary`` rows, the period's tickets per assignee id
    (``by="agent"``) or department id: ``{id or None: (handled, reopened)}``."""
    index = 1 if by == "agent" else 2
    out: dict = {}
    for now, *groups, reopened, n in summary:
        if not now:
            continue
        handled, again = out.get(groups[index - 1], (0, 0))
        out[groups[index - 1]] = (handled + n, again + (n if reopened else 0))
    return out


def share(part: int, whole: int) -> float | None:
    """``part`` of ``whole`` in percent, one decimal; None of nothing."""
    return round(100 * part / whole, 1) if whole else None


class Figures:
    """The period's summaries, each read once however many charts, tiles and
    tables use it (one dashboard asks several times)."""

    def __init__(self, period: ReportPeriod):
        self.period = period

    @functools.cached_property
    def created(self) -> list[tuple]:
        return created_summary(self.period)

    @functools.cached_property
    def resolved(self) -> list[tuple]:
        return resolved_summary(self.period)
