"""Ticket use cases: edit, move through the workflow, answer a resolution.

Opening a ticket is ``service.usecases.opening``; asking the deciders,
``decisions``; asking the guards, ``guards``. Each public function here is
one transaction (``UnitOfWork``): it loads, checks with
``service.domain.workflow``, asks the guards, changes, writes the history,
commits, and only then fires the notification hooks. Errors are
``service.domain.errors`` exceptions and leave nothing half-written.
"""
from __future__ import annotations

import re
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import select

from service.domain import workflow
from service.domain.actors import SYSTEM, Actor
from service.domain.errors import Conflict, KefuError, StaleVersion, ValidationFailed
from service.extensions import db
from service.hooks.types import TicketChange
from service.models import PRIORITIES, Ticket
from service.models.base import utcnow
from service.reads import lookup
from service.usecases import decisions, history
from service.usecases.guards import check_change
from service.usecases.opening import clean_tags, create
from service.usecases.uow import UnitOfWork


def check_version(ticket: Ticket, version) -> None:
    """409 ``StaleVersion`` unless the client saw the current version."""
    if version != ticket.version:
        raise StaleVersion(
            f"version {version} is stale: the ticket is at version {ticket.version}",
            {"version": [f"stale; current version is {ticket.version}"]}, current_version=ticket.version,
        )


def touch(ticket: Ticket, now: datetime) -> None:
    """Mark a change a client made to ``ticket``: raise its version (so the
    next write with the old one is refused) and set ``updated_at``."""
    ticket.version += 1
    ticket.updated_at = now


def _diff(ticket: Ticket, changes: dict) -> tuple[dict, dict]:
    """``({field: [old, new]}, {attribute: new value})`` for the fields of
    ``changes`` that differ from ``ticket``'s; unknown codes answer 422."""
    diff, values = {}, {}
    if "priority" in changes and changes["priority"] != ticket.priority:
        if changes["priority"] not in PRIORITIES:
            raise ValidationFailed(f"unknown priority {changes['priority']!r}",
                                   {"priority": [f"must be one of {', '.join(PRIORITIES)}"]})
        diff["priority"], values["priority"] = [ticket.priority, changes["priority"]], changes["priority"]
    if "category" in changes and changes["category"] != ticket.category.code:
        diff["category"] = [ticket.category.code, changes["category"]]
        values["category"] = lookup.category_by_code(changes["category"])
    if "department" in changes:
        old = ticket.department.code if ticket.department else None
        if changes["department"] != old:
            diff["department"] = [old, changes["department"]]
            values["department"] = (lookup.department_by_code(changes["department"])
                                    if changes["department"] else None)
    if "assignee" in changes and changes["assignee"] != ticket.assignee_id:
        diff["assignee"] = [ticket.assignee_id, changes["assignee"]]
        values["assignee"] = lookup.staff_by_id(changes["assignee"]) if changes["assignee"] else None
    if "tags" in changes:
        tags = clean_tags(changes["tags"])
        if tags != list(ticket.tags or []):
            diff["tags"], values["tags"] = [list(ticket.tags or []), tags], tags or None
    return diff, values


def update_ticket(number: str | Ticket, version: int, changes: dict, actor: Actor) -> Ticket:
    """Edit priority, category (code), department (code), assignee (staff id
    or None) or tags (a list of short texts).

    ``number``: the ticket's number (or the ``Ticket``, inside a caller's
    unit of work). Needs the current ``version``. The guards are asked with
    the ``{field: [old, new]}`` diff before anything changes; records it in
    the history; a priority change re-applies the SLA.
    """
    with UnitOfWork() as uow:
        ticket = lookup.ticket_by_number(number) if isinstance(number, str) else number
        check_version(ticket, version)
        if ticket.status in workflow.FINAL_STATUSES:
            raise Conflict(f"ticket {ticket.number} is {ticket.status} and can no longer be edited",
                           current_status=ticket.status, allowed_actions=[])
        diff, values = _diff(ticket, changes)
        if diff:
            check_change(ticket, TicketChange("update", None, ticket.status, ticket.status, fields=diff), actor)
            for key, value in values.items():
                setattr(ticket, key, value)
            touch(ticket, utcnow())
            history.record(ticket, actor, "updated", changes=diff)
            if "priority" in diff:
                decisions.apply_sla(ticket)
            uow.emit("ticket_updated", ticket=ticket, changes=diff, actor=actor)
        uow.commit()
    return ticket


def note_first_response(ticket: Ticket, how: str, at: datetime) -> bool:
    """Record ``at`` as ``ticket``'s first response when ``how`` ("confirm"
    or "reply": a public reply by staff) counts under the setting
    ``FIRST_RESPONSE`` and the ticket has none yet; True when it did. The
    SLA clock (tier_sla) reads ``first_responded_at`` after the commit."""
    if ticket.first_responded_at is not None or current_app.config["FIRST_RESPONSE"] not in (how, "either"):
        return False
    ticket.first_responded_at = at
    return True


def _apply(ticket: Ticket, t: workflow.Transition, values: dict, actor: Actor, now: datetime) -> dict:
    """Change the ticket for transition ``t``; return the details for history and hooks."""
    details = {}
    if t.action == "confirm":
        ticket.department = lookup.department_by_code(values["department"])
        details["department"] = ticket.department.code
        note_first_response(ticket, "confirm", now)
    elif t.action == "resolve":
        ticket.resolution = values["resolution"].strip()
        details["resolution"] = ticket.resolution
    elif t.action in ("reopen", "cancel"):
        ticket.reason = values["reason"].strip()
        details["reason"] = ticket.reason
    if t.action == "reopen":
        ticket.reopen_count += 1
        ticket.reopened_at = now
    if ticket.status == "waiting_on_customer":
        ticket.waiting_since = None  # only a waiting ticket shows since when it waits
    if t.target == "in_progress":
        ticket.started_at = ticket.started_at or now
    stamp = workflow.STAMP_OF_STATUS.get(t.target)
    if stamp:
        setattr(ticket, stamp, now)
    from_status, ticket.status = ticket.status, t.target
    touch(ticket, now)
    history.record(ticket, actor, t.action, from_status, t.target, **details)
    return {"from_status": from_status, "details": details}


def move(ticket: Ticket, action: str, values: dict, actor: Actor, uow: UnitOfWork, now=None) -> None:
    """Check ``action`` (the workflow, then the guards) and apply it inside
    ``uow``; queue ``ticket_transitioned``. Every workflow step goes through
    here, so every path is guarded alike.

    For use cases (core or plugin) that already hold a unit of work.
    """
    now = now or utcnow()
    t = workflow.check(action, ticket.status, values, actor.type, actor.role)
    check_change(ticket, TicketChange("transition", action, ticket.status, t.target,
                                      details={k: v for k, v in values.items() if v is not None}), actor)
    result = _apply(ticket, t, values, actor, now)
    uow.emit("ticket_transitioned", ticket=ticket, action=action, from_status=result["from_status"],
             to_status=ticket.status, actor=actor, details=result["details"])


def transition(number: str | Ticket, action: str, version: int, values: dict,
               actor: Actor) -> tuple[Ticket, Ticket | None]:
    """Move ticket ``number`` (or the ``Ticket``) by workflow ``action`` (one
    of ``workflow.STAFF_ACTIONS``).

    Needs the current ``version``. Returns ``(ticket, followup)``: a
    ``reopen`` later than ``REOPEN_WINDOW_DAYS`` after the resolution closes
    the ticket and opens a linked follow-up instead. Raises
    ``IllegalTransition`` (409), ``MissingFields`` (422), ``StaleVersion`` (409),
    ``Refused`` (409, a guard's code).
    """
    with UnitOfWork() as uow:
        ticket = lookup.ticket_by_number(number) if isinstance(number, str) else number
        check_version(ticket, version)
        followup = None
        if action == "reopen":
            followup = reopen_or_follow_up(ticket, values, actor, uow)
        else:
            move(ticket, action, values, actor, uow)
        uow.commit()
    return ticket, followup


_FOLLOWUP = re.compile(r"^(?:Follow-up to [^:]+: )+")


def followup_subject(ticket: Ticket) -> str:
    """The subject of a follow-up to ``ticket``: "Follow-up to <its number>: "
    and the case's own subject, once (a follow-up of a follow-up names the
    latest ticket, not the whole chain)."""
    return f"Follow-up to {ticket.number}: {_FOLLOWUP.sub('', ticket.subject)}"[:200]


def reopen_or_follow_up(ticket: Ticket, values: dict, actor: Actor, uow: UnitOfWork) -> Ticket | None:
    """Reopen a resolved ticket, or past the window close it and open a follow-up."""
    workflow.check("reopen", ticket.status, values, actor.type, actor.role)
    now = utcnow()
    if not workflow.reopen_is_late(ticket.resolved_at, now, current_app.config["REOPEN_WINDOW_DAYS"]):
        move(ticket, "reopen", values, actor, uow, now)
        return None
    reason = values["reason"].strip()
    data = {"kind": ticket.kind, "category": ticket.category.code, "priority": ticket.priority,
            "subject": followup_subject(ticket), "description": reason,
            "department": ticket.department.code if ticket.department else None}
    # The customer needs a link of their own for the new ticket; the API
    # answer carries it (tokens are stored hashed and cannot be shown later).
    move(ticket, "close", {}, SYSTEM if actor.type == "customer" else actor, uow, now)
    followup, token = create(data, actor, ticket.channel, ticket.customer, parent=ticket, uow=uow)
    followup.new_token = token
    history.record(ticket, actor, "followup_opened", followup=followup.number, reason=reason)
    return followup


def answer_resolution(ticket: Ticket, accepted: bool, reason: str | None, actor: Actor) -> Ticket | None:
    """The customer accepts (close) or rejects (reopen or follow-up) a resolution.

    Returns the follow-up ticket when one was opened. 409 unless resolved;
    422 when rejecting without a reason.
    """
    with UnitOfWork() as uow:
        if ticket.status != "resolved":
            raise Conflict(f"ticket {ticket.number} has no resolution waiting for an answer",
                           current_status=ticket.status, allowed_actions=[])
        followup = None
        if accepted:
            move(ticket, "close", {}, actor, uow)
        else:
            if not (reason or "").strip():
                raise ValidationFailed("say why the resolution does not solve it", {"reason": ["required to reject"]})
            followup = reopen_or_follow_up(ticket, {"reason": reason}, actor, uow)
        uow.emit("resolution_answered", ticket=ticket, accepted=accepted, reason=reason,
                 followup=followup, actor=actor)
        uow.commit()
    return followup


def close_stale_resolved(now: datetime | None = None, limit: int = 500) -> list[str]:
    """Close resolved tickets the customer left unanswered for ``AUTO_CLOSE_DAYS``.

    The periodic job calls this; returns the numbers closed. Each ticket is
    its own transaction, so one conflict does not hold up the rest.
    """
    now = now or utcnow()
    days = current_app.config["AUTO_CLOSE_DAYS"]
    cutoff = now - timedelta(days=days)
    candidates = db.session.scalars(
        select(Ticket.id).where(Ticket.status == "resolved", Ticket.resolved_at <= cutoff)
        .order_by(Ticket.id).limit(limit)
    ).all()
    closed = []
    for ticket_id in candidates:
        try:
            with UnitOfWork() as uow:
                ticket = db.session.get(Ticket, ticket_id)
                if workflow.auto_close_due(ticket.status, ticket.resolved_at, now, days):
                    move(ticket, "close", {}, SYSTEM, uow, now)
                    history.record(ticket, SYSTEM, "auto_closed", days=days)
                    uow.commit()
                    closed.append(ticket.number)
        except KefuError as exc:  # refused by a guard, or changed meanwhile: the next run tries again
            current_app.logger.info("auto-close of ticket %s skipped: %s", ticket_id, exc.message)
    return closed
