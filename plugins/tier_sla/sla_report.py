"""SLA compliance reports (``GET /api/v1/reports/sla``)."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import select

from service import sdk

from .models import TicketSla

GROUPS = ("tier", "priority", "department", "agent", "week")


def compliance(by: str, since: datetime | None, until: datetime | None, now: datetime) -> list[dict]:
    """Targets met and missed for tickets opened in [since, until), grouped
    ``by`` one of ``GROUPS``; rows sorted by group (no group last).

    A target counts as met or missed once achieved; one not achieved whose
    due time has passed by ``now`` counts as missed. ``compliance`` is met /
    (met + missed) over both targets, None when nothing counted.
    """
    # One query; grouping in Python keeps the week and "missed while still
    # open" rules identical on SQLite and PostgreSQL.
    Department, Staff, Ticket = sdk.Department, sdk.Staff, sdk.Ticket
    stmt = (select(TicketSla, Ticket.priority, Ticket.created_at, Department.code, Staff.email)
            .join(Ticket, Ticket.id == TicketSla.ticket_id)
            .outerjoin(Department, Department.id == Ticket.department_id)
            .outerjoin(Staff, Staff.id == Ticket.assignee_id))
    if since:
        stmt = stmt.where(Ticket.created_at >= since)
    if until:
        stmt = stmt.where(Ticket.created_at < until)
    groups: dict = {}
    for row, priority, created_at, dept, email in sdk.db.session.execute(stmt):
        key = {"tier": row.tier, "priority": priority, "department": dept, "agent": email,
               "week": created_at.strftime("%G-W%V")}[by]
        g = groups.setdefault(key, {"group": key, "tickets": 0, "first_response_met": 0, "first_response_missed": 0,
                                    "resolution_met": 0, "resolution_missed": 0})
        g["tickets"] += 1
        for target, achieved, minutes, due in (
                ("first_response", row.first_response_business_minutes, row.first_response_minutes,
                 row.first_response_due),
                ("resolution", row.resolution_business_minutes, row.resolution_minutes, row.resolution_due)):
            if not minutes:
                continue
            if achieved is not None:
                g[f"{target}_{'met' if achieved <= minutes else 'missed'}"] += 1
            elif due is not None and due < now:
                g[f"{target}_missed"] += 1
    out = []
    for g in sorted(groups.values(), key=lambda g: (g["group"] is None, str(g["group"]))):
        met = g["first_response_met"] + g["resolution_met"]
        total = met + g["first_response_missed"] + g["resolution_missed"]
        out.append({**g, "group": None if g["group"] is None else str(g["group"]),
                    "compliance": round(met / total, 4) if total else None})
    return out
