"""The console's queues: which tickets each holds, their counts, the at-risk order.

Built on ``service.reads.listing.filtered_tickets``, so the filters and the search
mean exactly what they mean in the API's ticket list.
"""
from __future__ import annotations

from datetime import timedelta

from flask import current_app
from sqlalchemy import case, func

from service.domain.workflow import OPEN_STATUSES
from service.extensions import db
from service.models import Staff, Ticket
from service.models.base import utcnow
from service.reads import listing

QUEUES = ("mine", "department", "unassigned", "at_risk", "all", "remedies")


def visible_queues(staff: Staff) -> tuple[str, ...]:
    """The queues ``staff`` sees: agents the working queues; supervisors and
    admins also the remedies waiting for their approval; finance staff only
    the remedies routed to finance (they approve, they do not work tickets)."""
    if not staff.has_role("agent"):
        return ("remedies",) if staff.has_role("finance") else ()
    return QUEUES if staff.has_role("supervisor") else QUEUES[:-1]


def _approver_roles(staff: Staff) -> list[str] | None:
    # Which remedies wait for this person: None means every one (admins).
    if staff.has_role("admin"):
        return None
    roles = []
    if staff.has_role("supervisor"):
        roles.append("supervisor")
    if staff.has_role("finance"):
        roles.append("finance")
    return roles


def queue_filters(name: str, staff: Staff) -> dict:
    """The filters that make queue ``name`` for ``staff`` (open tickets unless ``all``)."""
    if name == "mine":
        return {"assignee": staff.id, "status": list(OPEN_STATUSES)}
    if name == "department":
        # Staff without a department see the tickets no department has taken yet.
        if staff.department_id is None:
            return {"status": list(OPEN_STATUSES), "no_department": True}
        return {"department_id": staff.department_id, "status": list(OPEN_STATUSES)}
    if name == "unassigned":
        return {"unassigned": True, "status": list(OPEN_STATUSES)}
    if name == "at_risk":
        return {"status": list(OPEN_STATUSES), "at_risk": True}
    if name == "remedies":
        return {"remedy_approvers": _approver_roles(staff)}
    return {}


def next_deadline():
    """The SQL expression of a ticket's next SLA deadline: the first response
    while it is new, the resolution afterwards."""
    return case((Ticket.status == "new", func.coalesce(Ticket.first_response_due, Ticket.resolution_due)),
                else_=Ticket.resolution_due)


def _statement(name: str, staff: Staff, filters: dict):
    base = queue_filters(name, staff)
    merged = {**base, **{k: v for k, v in filters.items() if v not in (None, "", [])}}
    if base.get("status") and filters.get("status"):
        merged["status"] = [s for s in filters["status"] if s in base["status"]] or ["-"]
    special = {k: merged.pop(k) for k in ("department_id", "no_department", "at_risk", "remedy_approvers")
               if k in merged}
    stmt = listing.filtered_tickets(merged)
    if "department_id" in special:
        stmt = stmt.where(Ticket.department_id == special["department_id"])
    if special.get("no_department"):
        stmt = stmt.where(Ticket.department_id.is_(None))
    if "remedy_approvers" in special:
        stmt = stmt.where(Ticket.remedy_decision == "needs_approval")
        roles = special["remedy_approvers"]
        if roles is not None:
            # No named approver means a supervisor (service.usecases.remedies).
            approver = func.coalesce(Ticket.remedy_approver, "supervisor")
            stmt = stmt.where(approver.in_(roles or ["-"]))
    if special.get("at_risk"):
        soon = utcnow() + timedelta(minutes=current_app.config["CONSOLE_AT_RISK_MINUTES"])
        stmt = stmt.where(next_deadline().is_not(None), next_deadline() <= soon)
    return stmt


def queue_page(name: str, staff: Staff, filters: dict, page: int, size: int) -> tuple[list[Ticket], bool]:
    """One page of queue ``name`` with the page's filters, and whether more follow.

    The at-risk queue is sorted by the next SLA deadline, soonest (most
    overdue) first; the others newest first.
    """
    stmt = _statement(name, staff, filters)
    order = (next_deadline().asc(), Ticket.id) if name == "at_risk" else (Ticket.id.desc(),)
    rows = db.session.scalars(stmt.order_by(*order).offset(max(page - 1, 0) * size).limit(size + 1)).unique().all()
    return rows[:size], len(rows) > size


def queue_counts(staff: Staff) -> dict[str, int]:
    """How many tickets each queue ``staff`` sees holds (without page filters)."""
    out = {}
    for name in visible_queues(staff):
        inner = _statement(name, staff, {}).with_only_columns(Ticket.id).order_by(None)
        out[name] = db.session.scalar(func.count().select().select_from(inner.subquery()))
    return out
