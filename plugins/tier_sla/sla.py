"""tier_sla's SLA hooks: targets for new tickets, and the clock following the workflow.

* ``sla_targets`` (decider, read-only): due times from the policy in force
  (or the ticket's own version, once it has a clock), the customer's tier
  and the tier's calendar, pauses counted.
* Notifications keep the ``TicketSla`` clock in step, each in a unit of
  work of its own (``sdk.UnitOfWork``) after the change committed (a clock
  is started by the sweep or by the first change that needs it, see
  ``clock_for``): the first response (``ticket.first_responded_at``, set
  by the core on confirming or on the first public reply, as the setting
  ``FIRST_RESPONSE`` says) and the resolution record the achieved
  business minutes;
  waiting on the customer pauses the clock and any other move resumes it
  (the ticket's due times are refreshed through ``sdk.refresh_sla`` in the
  same unit); a priority change re-targets; reopen lets the resolution
  clock run on.
* The SLA views' use cases: a ticket's clock explained, a policy re-applied.
* ``retier_job`` moves open tickets to their customer's new tier after a
  recompute or an override (queued by ``tiers`` with the change).
"""
from __future__ import annotations

import re
from datetime import datetime

from sqlalchemy import select

from service import hookimpl, sdk

from . import clock
from . import policy as policies
from .models import SlaPolicy, TicketSla, TierChange

FINAL = sdk.FINAL_STATUSES


@hookimpl
def sla_targets(ticket, start):
    """Due times under the tier x priority matrix on the tier's business calendar."""
    row = sdk.db.session.get(TicketSla, ticket.id) if ticket.id is not None else None
    if row is not None:
        pol = policies.by_id(row.policy_id)
        probe = TicketSla(**{c: getattr(row, c) for c in (
            "policy_id", "tier", "calendar", "started_at", "pauses", "paused", "steps_done",
            "first_responded_at", "resolved_at", "flagged")})
        clock.retarget(probe, ticket, pol, ticket.customer_tier or row.tier)
        return _answer(pol, probe.tier, probe.calendar, probe.first_response_due, probe.resolution_due)
    # A new ticket (every create pays this): only the two due times, no clock
    # yet (the sweep or the first change starts it, see ``clock_for``).
    pol = policies.in_force()
    tier = ticket.customer_tier
    name = policies.calendar_name(pol.data, tier)
    cal = policies.calendar(pol, name)
    fr, res = policies.targets_for(pol.data, tier, ticket.priority, ticket.kind)
    return _answer(pol, tier, name, cal.add(start, fr, []) if fr else None, cal.add(start, res, []) if res else None)


def _answer(pol, tier, calendar_name, first_response_due, resolution_due) -> dict:
    return {"policy": f"tier_sla:v{pol.id}:{tier or pol.data['fallback_tier']}:{calendar_name}",
            "first_response_due": first_response_due, "resolution_due": resolution_due}


_VERSION = re.compile(r"^tier_sla:v(\d+):")


def policy_of(ticket) -> SlaPolicy:
    """The policy version the decider used when the ticket was opened (named
    in ``ticket.sla_policy``), so a clock started later keeps it; the saved
    policy in force when there is none (the defaults, saved on first use)."""
    match = _VERSION.match(ticket.sla_policy or "")
    if match and int(match.group(1)):
        pol = policies.by_id(int(match.group(1)))
        if pol is not None:
            return pol
    return policies.current()


def clock_for(ticket) -> TicketSla | None:
    """The ticket's clock, started now if it has none yet (None for a closed
    or cancelled ticket without one). Adds it to the session: call it inside
    a ``sdk.UnitOfWork``, which commits it.

    Clocks are not written when a ticket is opened (that would cost every new
    ticket a second transaction): the due times are on the ticket from the
    decider, and the clock is started by the sweep within a minute
    (``sweep.adopt``), or here by the first change that needs it.
    """
    row = sdk.db.session.get(TicketSla, ticket.id)
    if row is None and ticket.status not in FINAL:
        pol = policy_of(ticket)
        row = clock.start_clock(ticket, pol, ticket.customer_tier, ticket.created_at)
        row.ticket_id = ticket.id
        # The sweep may adopt the ticket at the same moment: one clock, the first's.
        row = sdk.add_once(row)
    return row


def _row_and_policy(ticket) -> tuple[TicketSla | None, SlaPolicy | None]:
    row = clock_for(ticket)
    if row is None:
        return None, None
    return row, policies.by_id(row.policy_id)


@hookimpl
def ticket_transitioned(ticket, action, from_status, to_status):
    """Pause, resume, record achieved times, stop watching final tickets."""
    with sdk.UnitOfWork() as uow:
        row, pol = _row_and_policy(ticket)
        if row is None:
            return
        now = ticket.updated_at or sdk.utcnow()
        changed_dues = False
        if to_status == "waiting_on_customer":
            changed_dues = clock.pause(row, pol, ticket.waiting_since or now, "waiting on the customer")
        elif from_status == "waiting_on_customer":
            changed_dues = clock.resume(row, pol, now)
        if ticket.first_responded_at and row.first_responded_at is None:
            clock.achieve(row, pol, "first_response", ticket.first_responded_at)
        if to_status == "resolved":
            clock.achieve(row, pol, "resolution", ticket.resolved_at or now)
        elif action == "reopen":
            clock.reopen(row, pol)
        if to_status in FINAL:
            row.next_check = None
        if changed_dues:  # the ticket's due times follow the clock, in the same transaction
            sdk.refresh_sla(ticket.id, "clock paused" if row.paused else "clock resumed")
        uow.commit()


@hookimpl
def message_added(ticket, message):
    """A public staff reply may be the first response (setting
    ``FIRST_RESPONSE``): the clock records it as the core did."""
    if message.internal or ticket.first_responded_at is None or ticket.status in FINAL:
        return
    with sdk.UnitOfWork() as uow:
        row, pol = _row_and_policy(ticket)
        if row is None or row.first_responded_at is not None:
            return
        clock.achieve(row, pol, "first_response", ticket.first_responded_at)
        uow.commit()


@hookimpl
def ticket_updated(ticket, changes):
    """A new priority means new targets (same policy version and start)."""
    if "priority" not in (changes or {}):
        return
    with sdk.UnitOfWork() as uow:
        row, pol = _row_and_policy(ticket)
        if row is None:
            return
        clock.retarget(row, ticket, pol, row.tier)
        uow.commit()


def started_clock(ticket) -> TicketSla | None:
    """``clock_for`` as one transaction: a ticket opened in the last minute
    gets its clock now, committed (for the SLA views)."""
    with sdk.UnitOfWork() as uow:
        row = clock_for(ticket)
        uow.commit()
    return row


def ticket_clock(number: str) -> tuple[sdk.Ticket, TicketSla, SlaPolicy]:
    """Ticket ``number``, its clock (started now if need be) and the clock's
    policy; 404 for no such ticket, or a closed one that never had a clock."""
    ticket = sdk.get_ticket(number)
    row = started_clock(ticket)
    if row is None:
        raise sdk.NotFound(f"ticket {number} is {ticket.status} and has no SLA clock")
    return ticket, row, policies.by_id(row.policy_id)


def explain(number: str) -> dict:
    """``GET /api/v1/tickets/{number}/sla``: the ticket's clock explained (``clock.explain``)."""
    _ticket, row, pol = ticket_clock(number)
    return clock.explain(row, pol, sdk.utcnow())


def reapply(number: str, by: str) -> dict:
    """``POST /api/v1/tickets/{number}/sla/reapply``: the ticket's clock moved
    to the policy in force by staff member ``by`` (a name), explained."""
    ticket, row, _old = ticket_clock(number)
    pol = reapply_policy(ticket, row, by)
    return clock.explain(row, pol, sdk.utcnow())


def reapply_policy(ticket, row: TicketSla, by: str) -> SlaPolicy:
    """Move ``ticket``'s clock to the policy in force (start, pauses and steps
    stay), store it, and refresh the ticket's due times, in one unit of work;
    returns the policy."""
    with sdk.UnitOfWork() as uow:
        pol = policies.current()
        row.policy_id = pol.id
        clock.retarget(row, ticket, pol, row.tier)
        sdk.refresh_sla(ticket.id, f"policy v{pol.id} re-applied by {by}")
        uow.commit()
    return pol


RETIER_BATCH = 500


def retier_ticket(ticket) -> bool:
    """Move one open ticket to its customer's current tier: the clock's targets
    and calendar (same policy version, start, pauses and steps taken), then
    the ticket's tier and due times through ``sdk.refresh_sla``, in one unit
    of work. False if the tier is unchanged. Commits."""
    from .tiers import effective_tier

    with sdk.UnitOfWork() as uow:
        row, pol = _row_and_policy(ticket)
        if row is None:
            return False
        new, old = effective_tier(ticket.customer_id), row.tier
        if new == old and ticket.customer_tier == new:
            uow.commit()  # a clock started just now is kept
            return False
        clock.retarget(row, ticket, pol, new)
        sdk.refresh_sla(ticket.id, f"customer tier changed from {old or '-'} to {new or '-'}", retier=True)
        uow.commit()
    return True


def retier_job(customer_ids: list[int] | None = None, changed_at: str | None = None) -> dict:
    """``tier_sla.retier``: re-target the open tickets of customers whose tier
    changed - the given ``customer_ids`` (an override), or those with a
    ``TierChange`` recorded at ``changed_at`` (a recompute). Safe to run twice:
    a ticket already on its customer's tier is left alone. Returns counts."""
    session = sdk.db.session
    ids = set(customer_ids or [])
    if changed_at:
        at = datetime.fromisoformat(changed_at)
        ids |= set(session.scalars(select(TierChange.customer_id).where(TierChange.at == at)))
    ids = sorted(ids)
    seen = moved = 0
    for start in range(0, len(ids), RETIER_BATCH):
        batch = ids[start:start + RETIER_BATCH]
        ticket_ids = session.scalars(select(sdk.Ticket.id).where(
            sdk.Ticket.customer_id.in_(batch), sdk.Ticket.status.not_in(FINAL)).order_by(sdk.Ticket.id)).all()
        for ticket_id in ticket_ids:
            ticket = session.get(sdk.Ticket, ticket_id)
            seen += 1
            moved += retier_ticket(ticket)
    return {"customers": len(ids), "tickets": seen, "retargeted": moved}
