"""kefu-acme-vip: VIP tickets urgent at opening, no resolve without a public
reply, an audit line per workflow step, and the audit trail as a panel.

This module only wires hooks; the rules are in ``rules`` and ``audit``.
"""
from __future__ import annotations

from pathlib import Path

from service import hookimpl

NAME = "acme_vip"


@hookimpl
def register_settings():
    """Which tiers count as VIP (and, for its own tests, which hooks to break)."""
    from .settings import AcmeSettings

    return AcmeSettings


@hookimpl
def register_migrations():
    """The audit table, in this plugin's own Alembic branch."""
    from . import audit  # noqa: F401  (its model: the table Alembic compares with)

    return str(Path(__file__).parent / "migrations")


@hookimpl
def opening_ticket(draft):
    """VIP customers' tickets open as urgent, with a note saying why."""
    from .rules import vip_opening

    return vip_opening(draft)


@hookimpl
def guard_ticket_change(ticket, change):
    """No resolve without a public reply to the customer."""
    from .rules import reply_before_resolve

    return reply_before_resolve(ticket, change)


@hookimpl
def ticket_transitioned(ticket, action, from_status, to_status, actor):
    """One audit line per workflow step."""
    from .audit import write_line

    write_line(ticket, action, from_status, to_status, actor)


@hookimpl
def ticket_panels(ticket):
    """The audit trail on the agent's ticket page."""
    from .audit import panel

    return panel(ticket)
