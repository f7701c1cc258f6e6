"""Unit of work: a use case's transaction, and the notifications it releases.

Use cases collect notifications with ``emit`` while they work; ``commit``
commits, and only then calls the notification hooks. A rolled-back change
notifies nobody.
"""
from __future__ import annotations

from flask import current_app
from sqlalchemy.orm.exc import StaleDataError

from . import jobs
from .errors import StaleVersion
from .extensions import db
from .history import record_plugin_failures
from .outbox import relay_after_commit


def plugins():
    """The app's ``service.plugins.Plugins``."""
    return current_app.extensions["kefu_plugins"]


class UnitOfWork:
    """Use as ``with UnitOfWork() as uow: ...; uow.commit()``.

    Leaving the block without ``commit`` (or with an exception) rolls back.
    """

    def __init__(self):
        self._pending: list[tuple[str, dict]] = []
        self.committed = False

    def __enter__(self):
        return self

    def __exit__(self, exc_type, exc, tb):
        if not self.committed:
            db.session.rollback()
        if exc_type is not None and issubclass(exc_type, StaleDataError):
            # An autoflush inside the use case (a lazy load or a lookup after
            # a change) met a concurrent write: the same 409 as at commit.
            raise StaleVersion("the ticket was changed by someone else; reload and retry",
                               {"version": ["stale"]}) from exc
        return False

    def emit(self, hook: str, **kwargs) -> None:
        """Queue notification ``hook`` with ``kwargs`` (must include ``ticket``)."""
        self._pending.append((hook, kwargs))

    def commit(self) -> None:
        """Commit, then dispatch the queued notifications.

        A concurrent write detected by the version column becomes
        ``StaleVersion`` (409) and nothing is written.
        """
        from .mail.notices import plan_notices

        # The core's own jobs (customer and staff mail) are written in the
        # change's transaction: they commit or vanish with it.
        plan_notices(self._pending)
        try:
            db.session.commit()
        except StaleDataError as exc:
            db.session.rollback()
            raise StaleVersion("the ticket was changed by someone else; reload and retry",
                               {"version": ["stale"]}) from exc
        self.committed = True
        relay_after_commit(jobs.take_enqueued(db.session))
        for hook, kwargs in self._pending:
            ticket_id = kwargs["ticket"].id
            failures = plugins().notify(hook, **kwargs)
            if failures:
                record_plugin_failures(ticket_id, hook, failures)
        # Jobs a plugin asked for from a notification (after the change was
        # committed) commit now, together.
        later = jobs.take_enqueued(db.session)
        if later:
            db.session.commit()
            relay_after_commit(later)
