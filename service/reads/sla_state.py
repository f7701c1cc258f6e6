"""The state of a ticket's next SLA target, as badges and queues show it.

One rule for every page (queue rows, the ticket header, the sidebar's
at-risk count): the target that matters is the first response while it is
not given yet, else the resolution. Its state is

* ``met`` - the target was reached (first response given / resolved);
* ``paused`` - the ticket waits on the customer: the clock is not the
  agent's to beat (tier_sla moves the due time on when the customer answers);
* ``breached`` - the due time has passed;
* ``at_risk`` - due within ``CONSOLE_AT_RISK_MINUTES``;
* ``on_track`` - otherwise.

Finished tickets (closed, cancelled) and tickets without targets have no
state (None): a due date on a closed ticket is noise.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app

from service.domain.workflow import FINAL_STATUSES


@dataclass(frozen=True)
class SlaState:
    """``state`` (see the module), ``target`` ("first_response" or
    "resolution"), ``due`` (aware UTC) and ``done_at`` (when it was met)."""
    state: str
    target: str
    due: datetime
    done_at: datetime | None = None


def first_response_at(ticket) -> datetime | None:
    """When the ticket got its first response (None: not yet): its
    ``first_responded_at``, set by the use cases as the setting
    ``FIRST_RESPONSE`` counts it (confirming, a public staff reply, either)."""
    return ticket.first_responded_at


def sla_state(ticket, now: datetime, at_risk: timedelta | None = None) -> SlaState | None:
    """The state of ``ticket``'s next SLA target at ``now`` (see the module);
    ``at_risk`` defaults to ``CONSOLE_AT_RISK_MINUTES``."""
    if ticket.status in FINAL_STATUSES:
        return None
    if at_risk is None:
        at_risk = timedelta(minutes=current_app.config["CONSOLE_AT_RISK_MINUTES"])
    responded = first_response_at(ticket)
    if ticket.first_response_due and not responded:
        target, due, done = "first_response", ticket.first_response_due, None
    elif ticket.resolution_due:
        target, due, done = "resolution", ticket.resolution_due, ticket.resolved_at
    else:
        return None
    if done is not None or ticket.status == "resolved":
        return SlaState("met", target, due, done or ticket.resolved_at)
    if ticket.status == "waiting_on_customer":
        return SlaState("paused", target, due)
    if due <= now:
        return SlaState("breached", target, due)
    if due <= now + at_risk:
        return SlaState("at_risk", target, due)
    return SlaState("on_track", target, due)
