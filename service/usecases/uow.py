"""Unit of work: a use case's transaction, and what it releases after the commit.

Use cases collect notifications (``emit``) and events (``publish``) while
they work; ``commit`` writes the jobs the change asks for (the planners,
e.g. customer mail), commits, relays the committed jobs to the queue, and
only then calls the notification hooks and publishes the events. A
rolled-back change notifies nobody and enqueues nothing.

Units nest: a unit of work entered while another is active in the same
session joins it. Its ``emit``/``publish`` go to the outer unit, its
``commit`` does nothing, and the outer one commits everything at once - so
a plugin's use case can call the core's (answer a resolution, open a
follow-up) and all of it is one transaction.

This module and the job runner (``service.jobs``) are the only places that
commit (a meta-test keeps it so).
"""
from __future__ import annotations

import logging

from flask import current_app
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm.exc import StaleDataError

from service.domain.errors import Conflict, Refused, StaleVersion
from service.extensions import db
from service.hooks import failures, plugins
from service.jobs import registry as jobs
from service.jobs.outbox import relay_after_commit
from service.models.base import utcnow
from service.usecases import events, history

log = logging.getLogger("kefu.uow")

_ACTIVE = "kefu_unit_of_work"  # Session.info: the outermost unit now open
PLANNERS = "kefu_commit_planners"  # app.extensions: functions run just before each commit
LISTENERS = "kefu_commit_listeners"  # app.extensions: functions run just after each commit
# PostgreSQL's deadlock_detected and serialization_failure: the database
# gave up one of two concurrent transactions, which the client may retry.
_RETRYABLE = {"40P01", "40001"}


def _as_conflict(exc: BaseException) -> Conflict | None:
    """The 409 a concurrent write met inside a unit turns into, or None.

    A row changed or deleted under an ORM update (``StaleDataError``) and a
    transaction PostgreSQL aborted to break a deadlock are the other
    writer winning the race, not a failure of kefu: the client is told to
    reload and retry, and nothing was written.
    """
    if isinstance(exc, StaleDataError):
        return StaleVersion("changed or deleted by someone else meanwhile; reload and retry",
                            {"version": ["stale"]})
    if isinstance(exc, OperationalError) and getattr(exc.orig, "sqlstate", None) in _RETRYABLE:
        return Conflict("a concurrent change got in the way; retry", code="concurrent_change")
    return None


def add_planner(app, planner) -> None:
    """Run ``planner(events)`` in every unit of work of ``app`` just before it
    commits, with the ``(hook, kwargs)`` notifications it emitted; it may
    write rows (e.g. mail jobs) that commit or vanish with the change.
    Called by ``create_app``: the unit of work knows no feature by name."""
    planners = app.extensions.setdefault(PLANNERS, [])
    if planner not in planners:
        planners.append(planner)


def add_listener(app, listener) -> None:
    """Run ``listener(notifications, events, memos)`` in every unit of work
    of ``app`` right after it commits, before the notification hooks: the
    ``(hook, kwargs)`` it emitted, the ``(event, ticket, data)`` it
    published and its ``memos`` (``UnitOfWork.remember``). The listener
    owns its transaction (its own unit of work); if it raises, the failure
    is logged and the change, committed already, stands. Called by
    ``create_app`` (the staff notices listen this way)."""
    listeners = app.extensions.setdefault(LISTENERS, [])
    if listener not in listeners:
        listeners.append(listener)


def active_unit() -> UnitOfWork | None:
    """The outermost unit of work open in this session, or None."""
    unit = db.session.info.get(_ACTIVE)
    return unit if unit is not None and not unit.committed else None


class UnitOfWork:
    """Use as ``with UnitOfWork() as uow: ...; uow.commit()``.

    Leaving the block without ``commit`` (or with an exception) rolls back.
    A guard's refusal (``Refused``) is recorded on the ticket's history after
    the rollback, in a transaction of its own.
    """

    def __init__(self):
        self._pending: list[tuple[str, dict]] = []
        self._events: list[tuple[str, object, dict]] = []
        self._memos: dict[str, list] = {}
        self._outer: UnitOfWork | None = None
        self.committed = False

    def __enter__(self):
        # The session itself, not its scoped proxy: the unit asks it often.
        self._info = db.session().info
        outer = self._info.get(_ACTIVE)
        if outer is not None and not outer.committed:
            self._outer = outer
        else:
            self._info[_ACTIVE] = self
        return self

    def __exit__(self, exc_type, exc, tb):
        if self._outer is not None:
            return False  # the outer unit commits or rolls back
        if self._info.get(_ACTIVE) is self:
            del self._info[_ACTIVE]
        if not self.committed:
            db.session.rollback()
        if isinstance(exc, Refused):
            _record_refusal(exc)
        failures.flush()
        # An autoflush or a query inside the use case met a concurrent write:
        # the same 409 as at commit.
        conflict = _as_conflict(exc) if exc is not None else None
        if conflict is not None:
            raise conflict from exc
        return False

    @property
    def joined(self) -> bool:
        """True when this unit runs inside another one (which will commit)."""
        return self._outer is not None

    def emit(self, hook: str, **kwargs) -> None:
        """Queue notification ``hook`` with ``kwargs`` for after the commit.

        ``kwargs`` carry ``ticket`` for hooks about a ticket (failures are
        recorded on its history then). The core's hooks also publish their
        event (``service.usecases.events``)."""
        (self._outer or self)._pending.append((hook, kwargs))

    def publish(self, event: str, ticket, data: dict) -> None:
        """Publish ``event`` (``noun.verb``) about ``ticket`` (None for an
        event about no ticket, e.g. a customer's) with ``data``
        (JSON-able, no customer contact data) after the commit, through the
        ``event_published`` hook (webhooks deliver it). ``ValueError`` for a
        malformed name or data."""
        events.check_event(event, data)
        (self._outer or self)._events.append((event, ticket, data))

    def remember(self, topic: str, item) -> None:
        """Keep ``item`` under ``topic`` for the after-commit listeners
        (``add_listener``); forgotten if the change rolls back. In a joined
        unit it goes to the outer one."""
        (self._outer or self)._memos.setdefault(topic, []).append(item)

    def commit(self) -> None:
        """Commit, then relay the jobs and call the notifications.

        Inside another unit: nothing (the outer unit commits). A concurrent
        write detected by the version column becomes ``StaleVersion`` (409),
        a transaction PostgreSQL aborted in a deadlock ``Conflict`` (409,
        code ``concurrent_change``); nothing is written.
        """
        if self._outer is not None:
            return
        for planner in current_app.extensions.get(PLANNERS, ()):
            planner(self._pending)
        try:
            db.session.commit()
        except (StaleDataError, OperationalError) as exc:
            conflict = _as_conflict(exc)
            db.session.rollback()
            if conflict is None:
                raise
            raise conflict from exc
        self.committed = True
        if self._info.get(_ACTIVE) is self:
            # Notifications may open units of their own: top-level ones.
            del self._info[_ACTIVE]
        relay_after_commit(jobs.take_enqueued(db.session))
        self._after_commit()

    def _after_commit(self) -> None:
        occurred_at = utcnow()
        manager = plugins()
        published = []
        for hook, kwargs in self._pending:
            core = events.core_event(hook, kwargs)
            if core is not None:
                published.append((core[0], kwargs["ticket"], core[1]))
        for listener in current_app.extensions.get(LISTENERS, ()):
            try:
                listener(self._pending, published + self._events, self._memos)
            except Exception:  # the change is committed; a listener's failure must not undo the answer
                db.session.rollback()
                log.exception("after-commit listener %s failed", getattr(listener, "__name__", listener))
        for hook, kwargs in self._pending:
            _report(kwargs.get("ticket"), hook, manager.notify(hook, **kwargs))
        for event, ticket, data in published + self._events:
            _report(ticket, "event_published",
                    manager.notify("event_published", event=event, ticket=ticket, data=data,
                                   occurred_at=occurred_at))
        # Jobs a plugin asked for from a notification without a unit of its
        # own (after the change was committed) commit now, together.
        later = jobs.take_enqueued(db.session)
        if later:
            db.session.commit()
            relay_after_commit(later)


def _report(ticket, hook: str, failures) -> None:
    """Commit one ``plugin_error`` event per failed plugin on ``ticket``'s
    history, in a fresh transaction (after rolling back what the failed
    plugins left); the change itself was committed before."""
    if not failures or ticket is None or ticket.id is None:
        return
    db.session.rollback()
    history.add_plugin_errors(ticket.id, hook, failures)
    db.session.commit()


def _record_refusal(exc: Refused) -> None:
    if exc.ticket_id is None:
        return
    try:
        history.add_refusal(exc)
        db.session.commit()
    except Exception:  # the refusal stands; only its record is lost
        db.session.rollback()
        log.exception("could not record %s's refusal on ticket %s", exc.plugin, exc.ticket_id)
