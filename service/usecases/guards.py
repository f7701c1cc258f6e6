"""Asking the guards before a ticket changes (``guard_ticket_change``).

Called by the use cases that change a ticket (every workflow step through
``tickets.move``, field edits, remedy decisions), inside their transaction
and before the change is applied, so that every path - API, console, mail,
surveys, CLI, jobs, plugins through the SDK - is asked the same way.
"""
from __future__ import annotations

from service.domain.actors import Actor
from service.domain.errors import Refused
from service.hooks import plugins
from service.hooks.types import TicketChange
from service.usecases.decisions import record_failures


def check_change(ticket, change: TicketChange, actor: Actor) -> None:
    """Ask every guard about ``change`` to ``ticket`` by ``actor``.

    Raises ``Refused`` (409 with the plugin's code and message) at the first
    refusal; the unit of work records it on the ticket's history after
    rolling back. A guard that failed is recorded as a ``plugin_error`` with
    the change (or, fail-closed, refuses with ``plugin_unavailable``).
    """
    manager = plugins()
    if not manager.impls("guard_ticket_change"):
        return  # the common case costs nothing more
    refusal, plugin, failures = manager.guard("guard_ticket_change", ticket=ticket, change=change, actor=actor)
    record_failures(ticket, "guard_ticket_change", failures)
    if refusal is not None:
        raise Refused(refusal["code"], refusal["message"], plugin, ticket.id, change, actor)
