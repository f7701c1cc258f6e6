"""Writing the append-only ticket history."""
from __future__ import annotations

from .actors import Actor
from .extensions import db
from .models import TicketEvent
from .models.base import utcnow
from .plugins import describe_failure


def record(ticket, actor: Actor, action: str, from_status=None, to_status=None, **details) -> TicketEvent:
    """Add one history event for ``ticket`` to the current transaction.

    The event is committed (or rolled back) with the change it describes.
    ``details`` must be JSON-able.
    """
    event = TicketEvent(
        ticket_id=ticket.id, at=utcnow(), actor_type=actor.type, actor_id=actor.id,
        # A customer's name may be longer than the column (200 vs 120 characters).
        actor_name=actor.name[:120] if actor.name else actor.name,
        action=action, from_status=from_status, to_status=to_status,
        details=details,
    )
    db.session.add(event)
    return event


def record_plugin_failures(ticket_id: int, hook: str, failures) -> None:
    """Commit one ``plugin_error`` event per failed plugin, in a fresh transaction.

    Called after commit, so anything a failing plugin left in the session is
    rolled back first; the ticket itself was committed before.
    """
    db.session.rollback()
    for plugin, exc in failures:
        db.session.add(TicketEvent(
            ticket_id=ticket_id, at=utcnow(), actor_type="plugin", actor_name=plugin,
            action="plugin_error", details={"hook": hook, "error": describe_failure(exc)},
        ))
    db.session.commit()
