"""The console's queues: which tickets each holds, their counts, the at-risk order.

Built on ``service.reads.listing.filtered_tickets``, so the filters and the search
mean exactly what they mean in the API's ticket list.
"""
from __future__ import annotations

import time
from datetime import timedelta

from flask import current_app
from sqlalchemy import case, func, or_, select

from service.domain.workflow import FINAL_STATUSES, OPEN_STATUSES, STATUSES
from service.extensions import db
from service.models import PRIORITIES, Staff, Ticket
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


def at_risk_by(soon):
    """The SQL condition "the next SLA deadline is at or before ``soon``" for
    open tickets, written so that each part reads a (status, due time)
    index instead of computing ``next_deadline`` for every open ticket."""
    later = [s for s in OPEN_STATUSES if s != "new"]
    return or_(
        (Ticket.status == "new") & (Ticket.first_response_due <= soon),
        (Ticket.status == "new") & Ticket.first_response_due.is_(None) & (Ticket.resolution_due <= soon),
        Ticket.status.in_(later) & (Ticket.resolution_due <= soon),
    )


# The sortable columns: the SQL each sorts by. Priority sorts by severity and
# status by the workflow's order, not by the codes' alphabet; created by the
# id (ids grow with creation time, and the primary key needs no sort).
SORTS = ("created", "activity", "due", "priority", "status")


def _rank(column, codes):
    return case({code: n for n, code in enumerate(codes)}, value=column, else_=len(codes))


def _due():
    # Finished tickets have no due time to meet: they sort with the undated ones.
    return case((Ticket.status.in_(FINAL_STATUSES), None), else_=next_deadline())


def sort_order(sort: str, direction: str) -> tuple:
    """ORDER BY clauses for column ``sort`` (one of ``SORTS``) and
    ``direction`` ("asc" or "desc"); ties by the id in the same direction.
    Tickets without a due time come last either way."""
    desc = direction == "desc"
    by_id = Ticket.id.desc() if desc else Ticket.id.asc()
    if sort == "due":
        return (_due().is_(None), _due().desc() if desc else _due().asc(), by_id)
    column = {"activity": Ticket.updated_at, "priority": _rank(Ticket.priority, PRIORITIES),
              "status": _rank(Ticket.status, STATUSES)}.get(sort)
    if column is None:
        return (by_id,)
    return (column.desc() if desc else column.asc(), by_id)


def _statement(name: str, staff: Staff, filters: dict):
    base = queue_filters(name, staff)
    merged = {**base, **{k: v for k, v in filters.items() if v not in (None, "", [])}}
    if base.get("status") and filters.get("status"):
        merged["status"] = [s for s in filters["status"] if s in base["status"]] or ["-"]
    special = {k: merged.pop(k) for k in ("department_id", "no_department", "at_risk", "remedy_approvers")
               if k in merged}
    stmt = listing.filtered_tickets(merged)
    # What makes a queue a queue (its department, the remedies waiting for
    # this approver, the at-risk window); the filters are the list's own.
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
        stmt = stmt.where(at_risk_by(soon))
    return stmt


def _rows(ids: list[int]) -> list[Ticket]:
    # The page's tickets by id, in the order of ``ids``: the sort ran on ids
    # alone, so the database sorted narrow rows, not whole joined tickets.
    if not ids:
        return []
    found = {t.id: t for t in db.session.scalars(select(Ticket).where(Ticket.id.in_(ids))).unique()}
    return [found[i] for i in ids if i in found]


def _ranked_ids(stmt, column, codes, direction: str, offset: int, size: int) -> tuple[list[int], int]:
    """One page of ids sorted by ``column``'s rank in ``codes`` (priority,
    status), and the total. One GROUP BY counts each code's tickets; the
    page is then read code by code in rank order, each from the index on
    (code, id) - no sort of the whole table."""
    inner = stmt.with_only_columns(Ticket.id, column).order_by(None).subquery()
    counts = dict(db.session.execute(select(inner.c[column.key], func.count()).group_by(inner.c[column.key])).all())
    order = [c for c in codes if c in counts] + [c for c in counts if c not in codes]  # unknown codes rank last
    if direction == "desc":
        order.reverse()
    ids, skip = [], offset
    for code in order:
        if len(ids) >= size:
            break
        if skip >= counts[code]:
            skip -= counts[code]
            continue
        by_id = Ticket.id.desc() if direction == "desc" else Ticket.id.asc()
        ids += db.session.scalars(stmt.with_only_columns(Ticket.id).where(column == code).order_by(by_id)
                                  .offset(skip).limit(size - len(ids))).all()
        skip = 0
    return ids, sum(counts.values())


def queue_page(name: str, staff: Staff, filters: dict, page: int, size: int,
               sort: str | None = None, direction: str = "desc", total: int | None = None) -> tuple[list[Ticket], int]:
    """One page (1-based, ``size`` rows) of queue ``name`` with the page's
    filters, sorted by ``sort`` (see ``SORTS``) in ``direction``, and how
    many tickets the queue holds with those filters (``total``, when the
    caller knows it already: the queue's count without filters).

    Filters: those of ``service.reads.listing.filtered_tickets`` and, each a
    list of alternatives, ``category_ids``, ``department_ids``, ``channels``,
    ``tiers`` and ``assignees`` (staff ids; None for the unassigned). Without
    ``sort`` the at-risk queue is sorted by the next SLA deadline, soonest
    (most overdue) first; the others newest first.
    """
    stmt = _statement(name, staff, filters)
    offset = max(page - 1, 0) * size
    if sort in ("priority", "status"):
        column, codes = (Ticket.priority, PRIORITIES) if sort == "priority" else (Ticket.status, STATUSES)
        ids, total = _ranked_ids(stmt, column, codes, direction, offset, size)
        return _rows(ids), total
    if sort in SORTS:
        order = sort_order(sort, direction)
    else:
        order = (next_deadline().asc(), Ticket.id) if name == "at_risk" else (Ticket.id.desc(),)
    ids = db.session.scalars(stmt.with_only_columns(Ticket.id).order_by(*order).offset(offset).limit(size)).all()
    if total is None:
        inner = stmt.with_only_columns(Ticket.id).order_by(None)
        total = db.session.scalar(func.count().select().select_from(inner.subquery()))
    return _rows(ids), total


def ticket_tiers() -> list[str]:
    """The customer tiers tickets carry (a plugin decides them), for the tier
    filter; read at most once a minute per process (a scan of the tickets)."""
    cache = current_app.extensions.setdefault("kefu_queue_tiers", {})
    if cache.get("until", 0) <= time.monotonic():
        found = db.session.scalars(select(Ticket.customer_tier).where(Ticket.customer_tier.is_not(None))
                                   .distinct()).all()
        cache.update(tiers=sorted(found), until=time.monotonic() + 60)
    return cache["tiers"]


def queue_counts(staff: Staff) -> dict[str, int]:
    """How many tickets each queue ``staff`` sees holds (without page filters).

    Every console page shows them (the sidebar), and at 100,000 tickets the
    five counts cost more than the rest of a page. So they are remembered
    per process for ``CONSOLE_COUNTS_SECONDS``, keyed by who asks (id, role,
    department) and by the newest ticket id and change time: any ticket
    filed or changed (every use case sets ``updated_at``, indexed) counts
    afresh at once, on every node. Only the passing of time alone - a
    deadline coming within the at-risk window - waits for the entry to
    expire. ``CONSOLE_COUNTS_SECONDS = 0`` counts on every page.
    """
    seconds = current_app.config["CONSOLE_COUNTS_SECONDS"]
    if not seconds:
        return _count_queues(staff)
    # Two scalar subqueries, not max(id), max(updated_at) in one SELECT: each
    # is then one step down its index, where the pair scanned the whole table.
    mark = tuple(db.session.execute(select(select(func.max(Ticket.id)).scalar_subquery(),
                                           select(func.max(Ticket.updated_at)).scalar_subquery())).one())
    key = (staff.id, staff.role, staff.department_id, mark)
    cache = current_app.extensions.setdefault("kefu_queue_counts", {})
    hit = cache.get(key)
    now = time.monotonic()
    if hit is not None and hit[0] > now:
        return dict(hit[1])
    counts = _count_queues(staff)
    if len(cache) >= 10_000:  # bounded: past it the cache starts over rather than grow
        cache.clear()
    cache[key] = (now + seconds, counts)
    return dict(counts)


def _count_queues(staff: Staff) -> dict[str, int]:
    out = {}
    for name in visible_queues(staff):
        inner = _statement(name, staff, {}).with_only_columns(Ticket.id).order_by(None)
        out[name] = db.session.scalar(func.count().select().select_from(inner.subquery()))
    return out
