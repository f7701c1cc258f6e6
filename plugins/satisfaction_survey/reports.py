"""Survey reports: CSAT, average rating, NPS and response rate, grouped.

Counted: surveys delivered in [since, until) (by delivery time) that could
be answered, i.e. sent or answered (a survey withdrawn because its ticket was
reopened is left out). Per group:

* ``sent``: such surveys; ``answered``: those answered;
  ``response_rate`` = answered / sent;
* ``avg_rating``: the average rating (1-5) of the answers;
* ``csat``: the share of answers rating 4 or 5;
* ``solved_rate``: the share of answers saying "solved";
* ``nps``: % promoters (9-10) minus % detractors (0-6) among answers that
  gave the NPS question, -100 to 100; None when none did.

Ratios are rounded to 4 places, NPS to 1; None when there is nothing to divide.
"""
from __future__ import annotations

import csv
import io
from datetime import date, datetime

from sqlalchemy import Date, and_, case, cast, func, literal, select

from service import sdk
from service.sdk import Category, Department, Staff

from .models import Survey

GROUPS = ("all", "agent", "department", "category", "tier", "sla", "week")
COLUMNS = ("group", "sent", "answered", "response_rate", "avg_rating", "csat", "solved_rate", "nps")


def _ratio(part, whole, places=4):
    return round(part / whole, places) if whole else None


def _group_key(by: str, dialect: str):
    # The SQL expression grouped on (None: one group of everything). Weeks
    # are grouped by day here and folded into ISO weeks in Python: the
    # databases disagree on ISO week numbers, not on dates.
    if by == "week":
        return func.date(Survey.sent_at) if dialect == "sqlite" else cast(Survey.sent_at, Date)
    return {"all": None, "agent": Staff.email, "department": Department.code, "category": Category.code,
            "tier": Survey.tier,
            "sla": case((Survey.sla_met.is_(None), None), (Survey.sla_met.is_(True), "met"), else_="missed")}[by]


def _iso_week(day) -> str:
    day = day if isinstance(day, date) else date.fromisoformat(str(day)[:10])
    return day.strftime("%G-W%V")


SUMS = ("sent", "answered", "rating_sum", "csat", "solved", "nps_answers", "promoters", "detractors")


def figures(by: str, since: datetime | None = None, until: datetime | None = None) -> list[dict]:
    """The report rows grouped ``by`` one of ``GROUPS`` (agent: the assignee's
    e-mail at the resolution; sla: ``met``/``missed``; week: ISO week of the
    delivery, e.g. 2026-W48), sorted by group, no group last.

    Counted in the database (one GROUP BY over the surveys delivered in the
    period), so a report costs the same in Python for a thousand surveys as
    for millions.
    """
    answered = Survey.status == "answered"

    def count(condition):
        return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)

    key = _group_key(by, sdk.db.session.get_bind().dialect.name)
    sums = (func.count(), count(answered), func.coalesce(func.sum(case((answered, Survey.rating))), 0),
            count(and_(answered, Survey.rating >= 4)), count(and_(answered, Survey.solved.is_(True))),
            count(and_(answered, Survey.nps.is_not(None))), count(and_(answered, Survey.nps >= 9)),
            count(and_(answered, Survey.nps <= 6)))
    stmt = (select(literal("all") if key is None else key, *sums).select_from(Survey)
            .outerjoin(Staff, Staff.id == Survey.agent_id)
            .outerjoin(Department, Department.id == Survey.department_id)
            .outerjoin(Category, Category.id == Survey.category_id)
            .where(Survey.sent_at.is_not(None), Survey.status.in_(("sent", "answered"))))
    if since:
        stmt = stmt.where(Survey.sent_at >= since)
    if until:
        stmt = stmt.where(Survey.sent_at < until)
    if key is not None:
        stmt = stmt.group_by(key)
    groups: dict = {}
    for group, *values in sdk.db.session.execute(stmt):
        if not values[0]:
            continue  # "all" over no surveys: no row, as for the other groupings
        group = _iso_week(group) if by == "week" else group
        totals = groups.setdefault(group, dict.fromkeys(SUMS, 0))
        for name, value in zip(SUMS, values):
            totals[name] += int(value)
    rows = []
    for group in sorted(groups, key=lambda k: (k is None, str(k))):
        g = groups[group]
        nps = g["nps_answers"]
        rows.append({
            "group": group, "sent": g["sent"], "answered": g["answered"],
            "response_rate": _ratio(g["answered"], g["sent"]),
            "avg_rating": _ratio(g["rating_sum"], g["answered"]),
            "csat": _ratio(g["csat"], g["answered"]),
            "solved_rate": _ratio(g["solved"], g["answered"]),
            "nps": round((g["promoters"] - g["detractors"]) * 100 / nps, 1) if nps else None,
        })
    return rows


def as_csv(rows: list[dict]) -> str:
    """The report rows as CSV with a header line (empty cells for None)."""
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=COLUMNS, lineterminator="\r\n")
    writer.writeheader()
    for row in rows:
        cells = {k: "" if row[k] is None else row[k] for k in COLUMNS}
        if str(cells["group"])[:1] in ("=", "+", "-", "@"):
            # A spreadsheet would run it as a formula (CSV injection).
            cells["group"] = "'" + cells["group"]
        writer.writerow(cells)
    return out.getvalue()
