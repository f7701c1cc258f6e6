"""Asking the deciders about a ticket: its customer's tier, its SLA, its remedy.

Answers are checked against their shapes (``service.hooks.types``); a plugin
that raises or answers malformed is recorded on the ticket's history as a
``plugin_error`` and the next one (in the end the core default) answers.
"""
from __future__ import annotations

from service.domain.actors import SYSTEM, Actor
from service.extensions import db
from service.hooks import plugins
from service.hooks.failures import describe as describe_failure
from service.hooks.types import RemedyDecision, SlaTargets, check
from service.models import Ticket
from service.usecases import history
from service.usecases.uow import UnitOfWork


def record_failures(ticket: Ticket, hook: str, failures) -> None:
    """Record each ``(plugin, exception)`` of ``failures`` on ``ticket``'s history."""
    for name, exc in failures:
        history.record(ticket, Actor("plugin", name=name), "plugin_error", hook=hook, error=describe_failure(exc))


def decide(on: Ticket, hook: str, shape=None, **kwargs):
    """Ask decider ``hook`` about ticket ``on``; record plugins that failed on
    its history; return ``(answer, plugin name)``. ``shape``: the TypedDict
    the answer must match."""
    validate = (lambda answer: check(answer, shape)) if shape is not None else None
    answer, plugin, failures = plugins().decide(hook, validate=validate, **kwargs)
    record_failures(on, hook, failures)
    return answer, plugin


def _iso(value):
    return value.isoformat() if value else None


def tier(ticket: Ticket, customer) -> None:
    """Give a new ticket its customer's tier from the ``customer_tier`` decider."""
    answer, plugin = decide(ticket, "customer_tier", customer=customer)
    if answer is not None:
        ticket.customer_tier = str(answer)[:20]
        history.record(ticket, Actor("plugin", name=plugin), "tier_decided", tier=ticket.customer_tier)


def apply_sla(ticket: Ticket) -> None:
    """Set the ticket's due times from the ``sla_targets`` decider, clock from creation."""
    answer, plugin = decide(ticket, "sla_targets", shape=SlaTargets,
                            ticket=ticket, customer=ticket.customer, start=ticket.created_at)
    ticket.sla_policy = str(answer.get("policy") or plugin)[:80]
    ticket.first_response_due = answer.get("first_response_due")
    ticket.resolution_due = answer.get("resolution_due")
    history.record(ticket, Actor("plugin", name=plugin), "sla_applied", policy=ticket.sla_policy,
                   first_response_due=_iso(ticket.first_response_due),
                   resolution_due=_iso(ticket.resolution_due))


def remedy(ticket: Ticket, customer) -> None:
    """Decide a new ticket's requested remedy through ``remedy_approval``."""
    if not (ticket.remedy_text or ticket.remedy_amount_minor):
        return
    answer, plugin = decide(ticket, "remedy_approval", shape=RemedyDecision, ticket=ticket, customer=customer)
    ticket.remedy_decision, ticket.remedy_reason = answer["decision"], str(answer.get("reason") or "")
    if ticket.remedy_decision == "needs_approval":
        ticket.remedy_approver = answer.get("approver") or "supervisor"
    history.record(ticket, Actor("plugin", name=plugin), "remedy_decided",
                   decision=ticket.remedy_decision, reason=ticket.remedy_reason,
                   approver=ticket.remedy_approver)


def refresh_sla(ticket_id: int, reason: str, retier: bool = False) -> Ticket | None:
    """Ask the ``sla_targets`` decider again and store the ticket's new due times.

    For SLA plugins whose clock changed after a commit (paused, resumed, tier
    changed). With ``retier`` the ``customer_tier`` decider is asked first
    and the ticket takes the customer's current tier (recorded as
    ``tier_decided`` with the old and new tier). One transaction (or part of
    the caller's unit of work); the history says why (``reason``). The
    version is not raised: due times are the SLA's bookkeeping, not a change
    a client made, and raising it would refuse the client's next write.
    Returns the ticket, or None if there is no such ticket. No hooks fire.
    """
    with UnitOfWork() as uow:
        ticket = db.session.get(Ticket, ticket_id)
        if ticket is None:
            return None
        if retier:
            answer, plugin = decide(ticket, "customer_tier", customer=ticket.customer)
            answer = str(answer)[:20] if answer is not None else None
            if answer != ticket.customer_tier:
                history.record(ticket, Actor("plugin", name=plugin), "tier_decided",
                               tier=answer, from_tier=ticket.customer_tier, reason=reason[:200])
                ticket.customer_tier = answer
        before = (ticket.first_response_due, ticket.resolution_due)
        apply_sla(ticket)
        if (ticket.first_response_due, ticket.resolution_due) != before:
            history.record(ticket, SYSTEM, "sla_refreshed", reason=reason[:200])
        uow.commit()
    return ticket
