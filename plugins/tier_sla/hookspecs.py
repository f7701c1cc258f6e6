"""The hooks tier_sla fires: its own contract, declared through ``register_hookspecs``.

Other plugins implement them like any kefu hook (``@service.hookimpl``, any
subset of the arguments). Both are notifications: fired by the SLA sweep
(``sweep``) with ``UnitOfWork.emit``, after the commit that recorded the
step; the return value is ignored, and an implementation that raises is
recorded on the ticket's history (``plugin_error``) without undoing the
step or stopping the other plugins. The sweep also publishes the matching
webhook events, ``sla.warning`` and ``sla.breached``, with ``{"target",
"due", "step"}`` (``due`` as an ISO time).
"""
from __future__ import annotations

from datetime import datetime
from typing import Literal

from service import sdk


@sdk.notification
def sla_warning(ticket: sdk.Ticket, target: Literal["first_response", "resolution"], due: datetime,
                step: str) -> None:
    """A ticket is close to missing an SLA target (a ladder step before the
    deadline: 75 % of the target used, with the default ladder).

    Fired after the commit that recorded the warning on the ticket's history;
    once per ticket, target and ladder step, also when a sweep catches up
    after a worker was down.

    :param ticket: the committed ``Ticket``.
    :param target: ``"first_response"`` or ``"resolution"``.
    :param due: the aware UTC time the target falls due.
    :param step: the escalation step's name (e.g. ``"warning"``).
    :return: ignored.
    """


@sdk.notification
def sla_breached(ticket: sdk.Ticket, target: Literal["first_response", "resolution"], due: datetime,
                 step: str) -> None:
    """A ticket missed an SLA target (a ladder step at or past the deadline).

    Fired after the commit that recorded the breach; once per ticket, target
    and ladder step (``"breach"``, then ``"takeover"`` with the default
    ladder), also when a sweep catches up. After a take-over step the
    reassignment to the supervisor and the raised priority follow in a
    change of their own (``ticket_updated``).

    :param ticket: the committed ``Ticket``.
    :param target: ``"first_response"`` or ``"resolution"``.
    :param due: the aware UTC time the target fell due.
    :param step: the escalation step's name.
    :return: ignored.
    """
