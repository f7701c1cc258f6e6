"""Ticket use cases: open, edit, move through the workflow, answer a resolution.

Each public function is one transaction (``UnitOfWork``): it loads, checks
with ``service.domain.workflow``, changes, writes the history, commits, and only then
fires the notification hooks. Errors are ``service.domain.errors`` exceptions and
leave nothing half-written.
"""
from __future__ import annotations

from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import select

from service.domain import workflow
from service.domain.actors import SYSTEM, Actor
from service.domain.errors import Conflict, StaleVersion, ValidationFailed
from service.extensions import db
from service.hooks.manager import describe_failure
from service.models import Ticket
from service.models.base import insert_attached, utcnow
from service.reads import lookup
from service.usecases import history, tracking
from service.usecases.customers import customer_for_contact
from service.usecases.uow import UnitOfWork, plugins


def _decide(on: Ticket, hook: str, validate=None, **kwargs):
    """Ask a decider about ticket ``on``; record any plugin that failed on its history."""
    answer, plugin, failures = plugins().decide(hook, validate=validate, **kwargs)
    for name, exc in failures:
        history.record(on, Actor("plugin", name=name), "plugin_error",
                       hook=hook, error=describe_failure(exc))
    return answer, plugin


def _check_sla(answer):
    if not isinstance(answer, dict):
        raise ValueError("sla_targets must answer a dict")
    for key in ("first_response_due", "resolution_due"):
        value = answer.get(key)
        if value is not None and (not isinstance(value, datetime) or value.tzinfo is None):
            raise ValueError(f"{key} must be an aware datetime or None")


REMEDY_APPROVERS = ("supervisor", "finance")


def _check_remedy(answer):
    if not isinstance(answer, dict) or answer.get("decision") not in ("approved", "needs_approval", "refused"):
        raise ValueError("remedy_approval must answer {'decision': approved|needs_approval|refused, 'reason': str}")
    if answer.get("approver") is not None and answer["approver"] not in REMEDY_APPROVERS:
        raise ValueError("remedy_approval's approver must be supervisor, finance or None")


def apply_sla(ticket: Ticket) -> None:
    """Set the ticket's due times from the ``sla_targets`` decider, clock from creation."""
    answer, plugin = _decide(ticket, "sla_targets", validate=_check_sla,
                             ticket=ticket, customer=ticket.customer, start=ticket.created_at)
    ticket.sla_policy = str(answer.get("policy") or plugin)[:80]
    ticket.first_response_due = answer.get("first_response_due")
    ticket.resolution_due = answer.get("resolution_due")
    history.record(ticket, Actor("plugin", name=plugin), "sla_applied", policy=ticket.sla_policy,
                   first_response_due=_iso(ticket.first_response_due),
                   resolution_due=_iso(ticket.resolution_due))


def _iso(value):
    return value.isoformat() if value else None


def refresh_sla(ticket_id: int, reason: str, retier: bool = False) -> Ticket | None:
    """Ask the ``sla_targets`` decider again and store the ticket's new due times.

    For SLA plugins whose clock changed after a commit (paused, resumed, tier
    changed). With ``retier`` the ``customer_tier`` decider is asked first
    and the ticket takes the customer's current tier (recorded as
    ``tier_decided`` with the old and new tier). One transaction; the history
    says why (``reason``). The version is not raised: due times are the SLA's
    bookkeeping, not a change a client made, and raising it would refuse the
    client's next write. Returns the ticket, or None if there is no such
    ticket. No hooks fire.
    """
    with UnitOfWork() as uow:
        ticket = db.session.get(Ticket, ticket_id)
        if ticket is None:
            return None
        if retier:
            tier, plugin = _decide(ticket, "customer_tier", customer=ticket.customer)
            tier = str(tier)[:20] if tier is not None else None
            if tier != ticket.customer_tier:
                history.record(ticket, Actor("plugin", name=plugin), "tier_decided",
                               tier=tier, from_tier=ticket.customer_tier, reason=reason[:200])
                ticket.customer_tier = tier
        before = (ticket.first_response_due, ticket.resolution_due)
        apply_sla(ticket)
        if (ticket.first_response_due, ticket.resolution_due) != before:
            history.record(ticket, SYSTEM, "sla_refreshed", reason=reason[:200])
        uow.commit()
    return ticket


def _create(data: dict, actor: Actor, channel: str, customer, parent: Ticket | None = None,
            sign_token: bool = True) -> tuple[Ticket, str | None]:
    """Insert a new ticket with its number, deciders' answers and first history;
    return it with the customer's new tracking token (None unless ``sign_token``)."""
    category = lookup.category_by_code(data.get("category") or "other")
    department = lookup.department_by_code(data["department"]) if data.get("department") else None
    remedy = data.get("remedy") or {}
    now = utcnow()
    ticket = Ticket(
        kind=data.get("kind") or "complaint", channel=channel, category=category,
        subject=data["subject"], description=data["description"],
        priority=data.get("priority") or "normal", status="new", customer=customer,
        department=department, parent=parent, remedy_text=remedy.get("text"),
        remedy_amount_minor=remedy.get("amount_minor"), remedy_currency=remedy.get("currency"),
        created_at=now, updated_at=now, version=1, reopen_count=0,
        email_message_id=data.get("email_message_id"),
    )
    # The deciders answer before the first write, so that the ticket, its
    # decisions and its first history rows go out in one flush.
    history.record(ticket, actor, "created", None, "new", channel=channel, kind=ticket.kind,
                   category=category.code, parent=parent.number if parent else None)
    tier, plugin = _decide(ticket, "customer_tier", customer=customer)
    if tier is not None:
        ticket.customer_tier = str(tier)[:20]
        history.record(ticket, Actor("plugin", name=plugin), "tier_decided", tier=ticket.customer_tier)
    apply_sla(ticket)
    if ticket.remedy_text or ticket.remedy_amount_minor:
        answer, plugin = _decide(ticket, "remedy_approval", validate=_check_remedy,
                                 ticket=ticket, customer=customer)
        ticket.remedy_decision, ticket.remedy_reason = answer["decision"], str(answer.get("reason") or "")
        if ticket.remedy_decision == "needs_approval":
            ticket.remedy_approver = answer.get("approver") or "supervisor"
        history.record(ticket, Actor("plugin", name=plugin), "remedy_decided",
                       decision=ticket.remedy_decision, reason=ticket.remedy_reason,
                       approver=ticket.remedy_approver)
    token = tracking.issue_token(ticket, sign=sign_token)
    # The id, and with it the number; on PostgreSQL the first history rows
    # go in the same statement.
    insert_attached(db.session, ticket, history.with_first_events(ticket))
    return ticket, token


def open_ticket(data: dict, actor: Actor, channel: str = "api",
                sign_token: bool = True) -> tuple[Ticket, str | None]:
    """Open a ticket (listen) and return it with the customer's tracking token
    (None with ``sign_token`` false, for callers with no customer to give it to).

    ``data``: ``subject``, ``description`` (required); ``kind``, ``category``
    (code, default ``other``), ``priority``, ``department`` (code),
    ``remedy`` (``text``, ``amount_minor``, ``currency``); and either
    ``customer_id`` or ``contact`` (``name``, ``email``/``phone``,
    ``language``) to find or create the customer; ``email_message_id`` for a
    ticket opened by an e-mail. Unknown codes answer 422.
    """
    with UnitOfWork() as uow:
        if data.get("customer_id") is not None:
            customer = lookup.customer_by_id(data["customer_id"], field="customer_id", preload=lookup.OPENING)
        else:
            customer = customer_for_contact(data.get("contact") or {})
        ticket, token = _create(data, actor, channel, customer, sign_token=sign_token)
        uow.emit("ticket_created", ticket=ticket, actor=actor)
        uow.commit()
    return ticket, token


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


def update_ticket(number: str, version: int, changes: dict, actor: Actor) -> Ticket:
    """Edit priority, category (code), department (code) or assignee (staff id or None).

    Needs the current ``version``. Records ``{field: [old, new]}`` in the
    history; a priority change re-applies the SLA.
    """
    with UnitOfWork() as uow:
        ticket = lookup.ticket_by_number(number)
        check_version(ticket, version)
        if ticket.status in workflow.FINAL_STATUSES:
            raise Conflict(f"ticket {number} is {ticket.status} and can no longer be edited",
                           current_status=ticket.status, allowed_actions=[])
        diff = {}
        if "priority" in changes and changes["priority"] != ticket.priority:
            diff["priority"] = [ticket.priority, changes["priority"]]
            ticket.priority = changes["priority"]
        if "category" in changes and changes["category"] != ticket.category.code:
            diff["category"] = [ticket.category.code, changes["category"]]
            ticket.category = lookup.category_by_code(changes["category"])
        if "department" in changes:
            old = ticket.department.code if ticket.department else None
            if changes["department"] != old:
                diff["department"] = [old, changes["department"]]
                ticket.department = (lookup.department_by_code(changes["department"])
                                     if changes["department"] else None)
        if "assignee" in changes and changes["assignee"] != ticket.assignee_id:
            diff["assignee"] = [ticket.assignee_id, changes["assignee"]]
            ticket.assignee = lookup.staff_by_id(changes["assignee"]) if changes["assignee"] else None
        if diff:
            touch(ticket, utcnow())
            history.record(ticket, actor, "updated", changes=diff)
            if "priority" in diff:
                apply_sla(ticket)
            uow.emit("ticket_updated", ticket=ticket, changes=diff, actor=actor)
        uow.commit()
    return ticket


def _apply(ticket: Ticket, t: workflow.Transition, values: dict, actor: Actor, now: datetime) -> dict:
    """Change the ticket for transition ``t``; return the details for history and hooks."""
    details = {}
    if t.action == "confirm":
        ticket.department = lookup.department_by_code(values["department"])
        details["department"] = ticket.department.code
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
    """Check and apply ``action`` inside ``uow``; queue ``ticket_transitioned``.

    For use cases (core or plugin) that already hold a unit of work.
    """
    now = now or utcnow()
    t = workflow.check(action, ticket.status, values, actor.type, actor.role)
    result = _apply(ticket, t, values, actor, now)
    uow.emit("ticket_transitioned", ticket=ticket, action=action, from_status=result["from_status"],
             to_status=ticket.status, actor=actor, details=result["details"])


def transition(number: str, action: str, version: int, values: dict, actor: Actor) -> tuple[Ticket, Ticket | None]:
    """Move ticket ``number`` by workflow ``action`` (one of ``workflow.STAFF_ACTIONS``).

    Needs the current ``version``. Returns ``(ticket, followup)``: a
    ``reopen`` later than ``REOPEN_WINDOW_DAYS`` after the resolution closes
    the ticket and opens a linked follow-up instead. Raises
    ``IllegalTransition`` (409), ``MissingFields`` (422), ``StaleVersion`` (409).
    """
    with UnitOfWork() as uow:
        ticket = lookup.ticket_by_number(number)
        check_version(ticket, version)
        followup = None
        if action == "reopen":
            followup = reopen_or_follow_up(ticket, values, actor, uow)
        else:
            move(ticket, action, values, actor, uow)
        uow.commit()
    return ticket, followup


def reopen_or_follow_up(ticket: Ticket, values: dict, actor: Actor, uow: UnitOfWork) -> Ticket | None:
    """Reopen a resolved ticket, or past the window close it and open a follow-up."""
    workflow.check("reopen", ticket.status, values, actor.type, actor.role)
    now = utcnow()
    if not workflow.reopen_is_late(ticket.resolved_at, now, current_app.config["REOPEN_WINDOW_DAYS"]):
        move(ticket, "reopen", values, actor, uow, now)
        return None
    reason = values["reason"].strip()
    data = {"kind": ticket.kind, "category": ticket.category.code, "priority": ticket.priority,
            "subject": f"Follow-up to {ticket.number}: {ticket.subject}"[:200], "description": reason,
            "department": ticket.department.code if ticket.department else None}
    # The customer needs a link of their own for the new ticket; the API
    # answer carries it (tokens are stored hashed and cannot be shown later).
    followup, token = _create(data, actor, ticket.channel, ticket.customer, parent=ticket)
    followup.new_token = token
    move(ticket, "close", {}, SYSTEM if actor.type == "customer" else actor, uow, now)
    history.record(ticket, actor, "followup_opened", followup=followup.number, reason=reason)
    uow.emit("ticket_created", ticket=followup, actor=actor)
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
        with UnitOfWork() as uow:
            ticket = db.session.get(Ticket, ticket_id)
            if workflow.auto_close_due(ticket.status, ticket.resolved_at, now, days):
                move(ticket, "close", {}, SYSTEM, uow, now)
                history.record(ticket, SYSTEM, "auto_closed", days=days)
                uow.commit()
                closed.append(ticket.number)
    return closed
