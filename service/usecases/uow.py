"""Unit of work: a use case's transaction, and the notifications it releases.

Use cases collect notifications with ``emit`` while they work; ``commit``
commits, and only then calls the notification hooks. A rolled-back change
notifies nobody.
"""
from __future__ import annotations

from flask import current_app, request
from sqlalchemy.orm.exc import StaleDataError

from service.domain.errors import StaleVersion
from service.extensions import db
from service.hooks.manager import NO_TRANSACTION
from service.jobs import registry as jobs
from service.jobs.outbox import relay_after_commit
from service.usecases.history import record_plugin_failures


def plugins():
    """The app's ``service.hooks.manager.Plugins``."""
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
        from service.mail.outgoing.notices import plan_notices

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


AUTOCOMMIT = {"isolation_level": "AUTOCOMMIT"}
_READ_ONLY = "kefu_read_only"


def read_only(view):
    """Mark a view that only reads, so that its request runs without a transaction.

    Its statements run in autocommit mode: no BEGIN before them and no
    ROLLBACK after them. Under READ COMMITTED (PostgreSQL's default) every
    statement already sees its own snapshot, so the reads see what they
    would inside a transaction. Why bother: two round trips fewer, and on
    PostgreSQL a ROLLBACK makes psycopg drop every prepared statement of the
    connection (a rollback may have undone what they refer to), so each read
    would parse and plan its joins again; without it they stay prepared.

    SQLite needs no switch: its driver opens a transaction only before a
    write, so reads already run outside one, and switching the connection's
    mode would cost two PRAGMAs a request. On both, deciders asked by the
    view get no savepoints (``plugins.NO_TRANSACTION``): outside a
    transaction a failed query aborts nothing.

    Contract: the view does not write. A write would commit at once,
    statement by statement, so a use case (``UnitOfWork``) must never run
    under it. Decorators that ``functools.wraps`` it keep the mark, which
    ``begin_request`` reads before authentication touches the database.
    """
    setattr(view, _READ_ONLY, True)
    return view


def _view_of_request():
    view = current_app.view_functions.get(request.endpoint) if request.endpoint else None
    view_class = getattr(view, "view_class", None)
    if view_class is None:
        return view
    method = getattr(view_class, request.method.lower(), None)
    if method is None and request.method == "HEAD":
        method = getattr(view_class, "get", None)  # as MethodView answers HEAD
    return method


def begin_request() -> None:
    """``before_request`` (first of all): a ``read_only`` view's request takes
    its connection in autocommit mode, before anything reads.

    Only on a fresh session: where the app context (and its session) outlives
    one request and already holds a transaction (tests, CLI code), the view
    runs inside that transaction as any other would.
    """
    if db.session().get_transaction() is None and getattr(_view_of_request(), _READ_ONLY, False):
        if db.session.get_bind().dialect.name != "sqlite":
            db.session.connection(execution_options=AUTOCOMMIT)
        db.session.info[NO_TRANSACTION] = True


def end_request(_exc=None) -> None:
    """``teardown_request``: give back a read-only request's autocommit
    connection, so that nothing after it in the same session (a longer app
    context) writes outside a transaction. Sends nothing to the database."""
    if db.session().info.pop(NO_TRANSACTION, False):
        db.session.rollback()
