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
from datetime import datetime

from sqlalchemy import select

from service.extensions import db
from service.models import Category, Department, Staff

from .models import Survey

GROUPS = ("all", "agent", "department", "category", "tier", "sla", "week")
COLUMNS = ("group", "sent", "answered", "response_rate", "avg_rating", "csat", "solved_rate", "nps")


def _ratio(part, whole, places=4):
    return round(part / whole, places) if whole else None


def figures(by: str, since: datetime | None = None, until: datetime | None = None) -> list[dict]:
    """The report rows grouped ``by`` one of ``GROUPS`` (agent: the assignee's
    e-mail at the resolution; sla: ``met``/``missed``; week: ISO week of the
    delivery, e.g. 2026-W48), sorted by group, no group last."""
    stmt = (select(Survey, Staff.email, Department.code, Category.code)
            .outerjoin(Staff, Staff.id == Survey.agent_id)
            .outerjoin(Department, Department.id == Survey.department_id)
            .outerjoin(Category, Category.id == Survey.category_id)
            .where(Survey.sent_at.is_not(None), Survey.status.in_(("sent", "answered"))))
    if since:
        stmt = stmt.where(Survey.sent_at >= since)
    if until:
        stmt = stmt.where(Survey.sent_at < until)
    groups: dict = {}
    for survey, email, dept, category in db.session.execute(stmt).unique():
        key = {"all": "all", "agent": email, "department": dept, "category": category, "tier": survey.tier,
               "sla": None if survey.sla_met is None else ("met" if survey.sla_met else "missed"),
               "week": survey.sent_at.strftime("%G-W%V")}[by]
        g = groups.setdefault(key, {"sent": 0, "answered": 0, "ratings": [], "solved": 0, "nps": []})
        g["sent"] += 1
        if survey.status == "answered":
            g["answered"] += 1
            g["ratings"].append(survey.rating)
            g["solved"] += bool(survey.solved)
            if survey.nps is not None:
                g["nps"].append(survey.nps)
    rows = []
    for key in sorted(groups, key=lambda k: (k is None, str(k))):
        g = groups[key]
        ratings, nps = g["ratings"], g["nps"]
        promoters, detractors = sum(1 for n in nps if n >= 9), sum(1 for n in nps if n <= 6)
        rows.append({
            "group": key, "sent": g["sent"], "answered": g["answered"],
            "response_rate": _ratio(g["answered"], g["sent"]),
            "avg_rating": _ratio(sum(ratings), len(ratings)),
            "csat": _ratio(sum(1 for r in ratings if r >= 4), len(ratings)),
            "solved_rate": _ratio(g["solved"], len(ratings)),
            "nps": round((promoters - detractors) * 100 / len(nps), 1) if nps else None,
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
