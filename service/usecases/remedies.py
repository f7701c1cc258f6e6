"""Remedy use cases: a person approves or refuses a remedy that waits for approval.

The ``remedy_approval`` decider answers when a ticket is opened
(``service.usecases.tickets``); when it answers ``needs_approval`` it may name who
approves (``remedy_approver``: supervisor or finance). This is the step after.
"""
from __future__ import annotations

from service.domain.actors import Actor
from service.domain.errors import Conflict, Forbidden, ValidationFailed
from service.hooks.types import TicketChange
from service.models import Ticket
from service.models.base import utcnow
from service.reads import lookup
from service.usecases import history
from service.usecases.guards import check_change
from service.usecases.tickets import check_version, touch
from service.usecases.uow import UnitOfWork


def decide_remedy(number: str, decision: str, reason: str, version: int, staff) -> Ticket:
    """A person approves or refuses a remedy that waits for approval.

    ``decision`` is ``approved`` or ``refused``; ``reason`` (required) says
    why; ``staff`` is the ``Staff`` deciding. The ticket's ``remedy_approver``
    names the role that decides (``supervisor``: supervisors and admins;
    ``finance``: finance staff and admins). Records who and why in the
    history (``remedy_approved`` / ``remedy_refused``), raises the version
    and notifies ``ticket_updated`` with ``{"remedy_decision": [old, new]}``.
    Raises ``Conflict`` (409) unless the remedy is ``needs_approval``,
    ``Forbidden`` (403) for the wrong role, ``StaleVersion`` (409),
    ``ValidationFailed`` (422) for a blank reason or an unknown decision.
    """
    if decision not in ("approved", "refused"):
        raise ValidationFailed(f"unknown decision {decision!r}", {"decision": ["must be approved or refused"]})
    reason = (reason or "").strip()
    if not reason:
        raise ValidationFailed("say why", {"reason": ["required"]})
    with UnitOfWork() as uow:
        ticket = lookup.ticket_by_number(number)
        if ticket.remedy_decision != "needs_approval":
            raise Conflict(f"the remedy of ticket {number} is not waiting for approval "
                           f"(it is {ticket.remedy_decision or 'not requested'})",
                           {"decision": ["no remedy waits for approval"]})
        approver = ticket.remedy_approver or "supervisor"
        if not staff.has_role(approver):
            raise Forbidden(f"this remedy waits for {approver} approval", {"decision": [f"needs the {approver} role"]})
        check_version(ticket, version)
        old = ticket.remedy_decision
        actor = Actor.staff(staff)
        check_change(ticket, TicketChange("update", None, ticket.status, ticket.status,
                                          fields={"remedy_decision": [old, decision]},
                                          details={"reason": reason}), actor)
        ticket.remedy_decision, ticket.remedy_reason = decision, reason
        touch(ticket, utcnow())
        history.record(ticket, actor, "remedy_approved" if decision == "approved" else "remedy_refused",
                       decision=decision, reason=reason, approver=approver)
        uow.emit("ticket_updated", ticket=ticket, changes={"remedy_decision": [old, decision]}, actor=actor)
        uow.commit()
    return ticket
