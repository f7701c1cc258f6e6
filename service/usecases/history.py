"""Writing the append-only ticket history.

``record`` queues an event on the session; the queued events are written in
one multi-row INSERT just before the transaction commits (after the flush
that gives new tickets their ids), and dropped if it rolls back. So events
commit or vanish with the change they describe, and a new ticket and its
first events cost one flush and one INSERT, not one ORM insert per event.
"""
from __future__ import annotations

import functools

from sqlalchemy import bindparam, event, insert, inspect, select, union_all
from sqlalchemy.orm import Session

from service.domain.actors import Actor
from service.extensions import db
from service.hooks.failures import describe as describe_failure
from service.models import TicketEvent
from service.models.base import utcnow

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
        if any(not inspect(ticket).persistent for ticket, _ in pending):
            session.flush()  # new tickets get their ids (the commit flushes the rest anyway)
        # Core insert of the table: the ORM has nothing to track for rows never read back here.
        session.execute(_insert_events(), [{**row, "ticket_id": ticket.id} for ticket, row in pending])


@functools.cache
def _insert_with_events(table, columns: tuple[str, ...], returned: tuple[str, ...], count: int):
    # WITH new_row AS (INSERT INTO tickets ... RETURNING ...),
    #      new_events AS (INSERT INTO ticket_events ... SELECT new_row.id, :e0_at, ... FROM new_row
    #                     UNION ALL SELECT new_row.id, :e1_at, ... FROM new_row ...)
    # SELECT * FROM new_row
    # Built once per shape with bound parameters, so it is compiled once and
    # psycopg prepares it like any repeated statement.
    new_row = (insert(table).values({c: bindparam(f"t_{c}", type_=table.c[c].type) for c in columns})
               .returning(*(table.c[name] for name in returned)).cte("new_row"))
    events = TicketEvent.__table__
    event_columns = [c for c in events.c if c.name not in ("id", "ticket_id")]
    rows = [select(new_row.c.id, *(bindparam(f"e{n}_{c.name}", type_=c.type) for c in event_columns))
            for n in range(count)]
    new_events = (insert(events).from_select(["ticket_id", *(c.name for c in event_columns)],
                                             rows[0] if count == 1 else union_all(*rows))
                  .cte("new_events"))
    return select(new_row).add_cte(new_events)


def with_first_events(ticket):
    """An ``insert_attached`` ``run_insert`` that writes the new ``ticket``
    and the events queued for it so far in one statement (None elsewhere
    than on PostgreSQL).

    PostgreSQL only (a data-modifying CTE; elsewhere the events wait for the
    commit as usual): opening a ticket then costs one round trip for the
    ticket and its first history instead of two. The events keep their
    order (the rows of one INSERT ... SELECT get their ids in turn).
    """
    if db.session.get_bind().dialect.name != "postgresql":
        return None

    def run_insert(session, table, values, returned):
        queued = session.info.get(_PENDING) or []
        mine = [row for t, row in queued if t is ticket]
        if not mine or "id" not in returned:
            return None  # nothing to add: insert_attached's own INSERT
        statement = _insert_with_events(table, tuple(values), returned, len(mine))
        params = {f"t_{name}": value for name, value in values.items()}
        for n, row in enumerate(mine):
            params.update({f"e{n}_{key}": value for key, value in row.items()})
        result = session.execute(statement, params).one()
        # Written: only the events of other tickets stay queued.
        session.info[_PENDING] = [(t, row) for t, row in queued if t is not ticket]
        return result

    return run_insert


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


def add_plugin_errors(ticket_id: int, hook: str, failures) -> None:
    """Add one ``plugin_error`` event per ``(plugin, exception)`` of ``failures``
    to the session, for a ticket already committed; the caller commits."""
    for plugin, exc in failures:
        db.session.add(TicketEvent(
            ticket_id=ticket_id, at=utcnow(), actor_type="plugin", actor_name=plugin,
            action="plugin_error", details={"hook": hook, "error": describe_failure(exc)},
        ))


def add_refusal(refused) -> None:
    """Add the ``change_refused`` event for a guard's refusal (``Refused``) to
    the session, after its change was rolled back; the caller commits. The
    event is the plugin's, and names who tried what."""
    change = refused.change
    details = {"code": refused.code, "message": refused.message}
    if change is not None:
        details.update(kind=change.kind, action=change.action, fields=change.fields)
    if refused.actor is not None:
        details["tried_by"] = {"type": refused.actor.type, "id": refused.actor.id, "name": refused.actor.name}
    db.session.add(TicketEvent(ticket_id=refused.ticket_id, at=utcnow(), actor_type="plugin",
                               actor_name=refused.plugin[:120], action="change_refused", details=details,
                               from_status=change.from_status if change else None,
                               to_status=change.to_status if change else None))
