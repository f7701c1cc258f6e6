"""Writing the append-only ticket history.

``record`` queues an event on the session; the queued events are written in
one multi-row INSERT just before the transaction commits (after the flush
that gives new tickets their ids), and dropped if it rolls back. So events
commit or vanish with the change they describe, and a new ticket and its
first events cost one flush and one INSERT, not one ORM insert per event.
"""
from __future__ import annotations

import functools

from sqlalchemy import event, insert
from sqlalchemy.orm import Session

from .actors import Actor
from .extensions import db
from .models import TicketEvent
from .models.base import utcnow
from .plugins import describe_failure


_PENDING = "kefu_history"


def record(ticket, actor: Actor, action: str, from_status=None, to_status=None, **details) -> None:
    """Add one history event for ``ticket`` to the current transaction.

    The event is written when the transaction commits, and dropped if it
    rolls back. ``ticket`` may not be inserted yet. ``details`` must be
    JSON-able.
    """
    row = {
        "at": utcnow(), "actor_type": actor.type, "actor_id": actor.id,
        # A customer's name may be longer than the column (200 vs 120 characters).
        "actor_name": actor.name[:120] if actor.name else actor.name,
        "action": action, "from_status": from_status, "to_status": to_status, "details": details,
    }
    db.session.info.setdefault(_PENDING, []).append((ticket, row))


@functools.cache
def _insert_events():
    # Built once, so its cache key is memoized (see models.base.insert_attached).
    return insert(TicketEvent.__table__)


def _write_pending(session) -> None:
    if session.in_nested_transaction():
        return  # a savepoint's release: the events wait for the real commit
    pending = session.info.pop(_PENDING, None)
    if pending:
        session.flush()  # new tickets get their ids
        # Core insert of the table: the ORM has nothing to track for rows never read back here.
        session.execute(_insert_events(), [{**row, "ticket_id": ticket.id} for ticket, row in pending])


def _drop_pending(session, previous_transaction) -> None:
    # A savepoint rolled back (a plugin failed) leaves the use case's
    # transaction, and its events, standing.
    if not previous_transaction.nested:
        session.info.pop(_PENDING, None)


def install() -> None:
    """Hook the history queue into every session's commit and rollback (idempotent)."""
    if not event.contains(Session, "before_commit", _write_pending):
        event.listen(Session, "before_commit", _write_pending)
        event.listen(Session, "after_soft_rollback", _drop_pending)


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
