"""Counting plugin failures where admins look (``plugin_failures``).

A failure is often met inside a transaction (a decider while a ticket is
opened) or a request without one (``read_only``), and the count must stay
whatever becomes of them. So ``count`` only notes it in the process, and
``flush`` writes the notes on a connection of its own once the session's
transaction is over: the unit of work calls it when it ends, the app after
each request, the job runner after each job.
"""
from __future__ import annotations

import logging
import threading

from flask import current_app
from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from service.extensions import db
from service.models import PluginFailure
from service.models.base import utcnow

log = logging.getLogger("kefu.plugins")
PENDING = "kefu_plugin_failures_pending"  # app.extensions: [(plugin, hook, error, at)]
_lock = threading.Lock()


def describe(exc: BaseException) -> str:
    """A one-line description of a plugin error for the history and the admin page."""
    return f"{type(exc).__name__}: {exc}"[:500]


def count(plugin: str, hook: str, exc: BaseException) -> None:
    """Note one failure of ``plugin`` in ``hook``, to be written by ``flush``."""
    with _lock:
        current_app.extensions.setdefault(PENDING, []).append((plugin[:80], hook[:80], describe(exc), utcnow()))


def flush(app=None) -> None:
    """Write the noted failures (best effort, never raises): call it when no
    transaction of this session is open, so that SQLite's write lock is free."""
    app = app or current_app
    if PENDING not in app.extensions:
        return  # the common case: nothing failed (checked without the lock; a late note waits for the next flush)
    with _lock:
        pending = app.extensions.pop(PENDING, None)
    if not pending:
        return
    try:
        engine = db.engine
        table = PluginFailure.__table__
        insert = pg_insert if engine.dialect.name == "postgresql" else sqlite_insert
        with engine.begin() as conn:
            for plugin, hook, error, at in pending:
                stmt = insert(table).values(plugin=plugin, hook=hook, count=1, first_at=at, last_at=at,
                                            last_error=error)
                conn.execute(stmt.on_conflict_do_update(index_elements=["plugin", "hook"], set_={
                    "count": table.c.count + 1, "last_at": stmt.excluded.last_at,
                    "last_error": stmt.excluded.last_error}))
    except Exception:  # the page, request or job must go on
        log.warning("could not record %d plugin failure(s)", len(pending), exc_info=True)


def counts() -> list[PluginFailure]:
    """Every plugin's failures by hook, most recent first."""
    return list(db.session.scalars(select(PluginFailure).order_by(PluginFailure.last_at.desc())))
