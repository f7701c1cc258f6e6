"""tier_sla's SLA hooks: targets for new tickets, and the clock following the workflow.

* ``sla_targets`` (decider, read-only): due times from the policy in force
  (or the ticket's own version, once it has a clock), the customer's tier
  and the tier's calendar, pauses counted.
* Notifications keep the ``TicketSla`` clock in step, each in its own
  transaction after the change committed: a new ticket starts its clock;
  confirm and resolve record the achieved business minutes; waiting on the
  customer pauses the clock and any other move resumes it; a priority
  change re-targets; reopen lets the resolution clock run on.
"""
from __future__ import annotations

from datetime import datetime

from service import hookimpl
from service.extensions import db
from service.models.base import utcnow
from service.tickets import refresh_sla

from . import clock
from . import policy as policies
from .models import SlaPolicy, TicketSla

FINAL = ("closed", "cancelled")


def _policy_in_force() -> SlaPolicy:
    """The newest version, or the defaults unsaved (deciders must not write)."""
    current = db.session.scalar(db.select(SlaPolicy).order_by(SlaPolicy.id.desc()).limit(1))
    return current or SlaPolicy(id=0, data=policies.validate({}), note="defaults")


@hookimpl
def sla_targets(ticket, start):
    """Due times under the tier x priority matrix on the tier's business calendar."""
    row = db.session.get(TicketSla, ticket.id) if ticket.id is not None else None
    if row is not None:
        pol = db.session.get(SlaPolicy, row.policy_id)
        probe = TicketSla(**{c: getattr(row, c) for c in (
            "policy_id", "tier", "calendar", "started_at", "pauses", "paused", "steps_done",
            "first_responded_at", "resolved_at", "flagged")})
        clock.retarget(probe, ticket, pol, ticket.customer_tier or row.tier)
    else:
        pol = _policy_in_force()
        probe = clock.start_clock(ticket, pol, ticket.customer_tier, start)
    return {"policy": f"tier_sla:v{pol.id}:{probe.tier or pol.data['fallback_tier']}:{probe.calendar}",
            "first_response_due": probe.first_response_due, "resolution_due": probe.resolution_due}


@hookimpl
def ticket_created(ticket):
    """Start the ticket's clock (the decider answered before the insert)."""
    if db.session.get(TicketSla, ticket.id) is not None:
        return
    pol = policies.current()  # creates the default version on first use
    row = clock.start_clock(ticket, pol, ticket.customer_tier, ticket.created_at)
    row.ticket_id = ticket.id
    db.session.add(row)
    db.session.commit()


def _row_and_policy(ticket) -> tuple[TicketSla | None, SlaPolicy | None]:
    row = db.session.get(TicketSla, ticket.id)
    if row is None:
        return None, None
    return row, db.session.get(SlaPolicy, row.policy_id)


@hookimpl
def ticket_transitioned(ticket, action, from_status, to_status):
    """Pause, resume, record achieved times, stop watching final tickets."""
    row, pol = _row_and_policy(ticket)
    if row is None:
        return
    now = ticket.updated_at or utcnow()
    changed_dues = False
    if to_status == "waiting_on_customer":
        changed_dues = clock.pause(row, pol, ticket.waiting_since or now, "waiting on the customer")
    elif from_status == "waiting_on_customer":
        changed_dues = clock.resume(row, pol, now)
    if to_status == "confirmed" or (ticket.confirmed_at and row.first_responded_at is None):
        clock.achieve(row, pol, "first_response", ticket.confirmed_at or now)
    if to_status == "resolved":
        clock.achieve(row, pol, "resolution", ticket.resolved_at or now)
    elif action == "reopen":
        clock.reopen(row, pol)
    if to_status in FINAL:
        row.next_check = None
    db.session.commit()
    if changed_dues:
        refresh_sla(ticket.id, "clock paused" if row.paused else "clock resumed")


@hookimpl
def ticket_updated(ticket, changes):
    """A new priority means new targets (same policy version and start)."""
    if "priority" not in (changes or {}):
        return
    row, pol = _row_and_policy(ticket)
    if row is None:
        return
    clock.retarget(row, ticket, pol, row.tier)
    db.session.commit()


def retier(ticket_id: int, tier: str | None, when: datetime | None = None) -> None:
    """The customer's tier changed: re-target an open ticket's clock and due times."""
    from service.models import Ticket

    ticket = db.session.get(Ticket, ticket_id)
    row = db.session.get(TicketSla, ticket_id)
    if ticket is None or row is None or ticket.status in FINAL or row.tier == tier:
        return
    pol = db.session.get(SlaPolicy, row.policy_id)
    ticket.customer_tier = tier
    clock.retarget(row, ticket, pol, tier)
    db.session.commit()
    refresh_sla(ticket_id, f"customer tier now {tier}")
