"""Keeping a plugin's failed queries from spoiling the use case's transaction.

Guards, openers and deciders run inside the use case's transaction. On
PostgreSQL a failed statement aborts the whole transaction, so each such
call gets a savepoint from its first query on, rolled back if it raises.
One that only computes (most answers) costs no round trip.
"""
from __future__ import annotations

from contextlib import contextmanager

from sqlalchemy import event
from sqlalchemy.orm import Session

_LAZY = "kefu_plugin_savepoint"  # Session.info key: the call being isolated
# Session.info key set by ``service.reads.read_only.begin_request`` for a read-only request: its
# statements run outside a transaction (autocommit on PostgreSQL; SQLite's
# driver opens none for reads), so there is none for a failure to abort, and
# none to hold a savepoint.
NO_TRANSACTION = "kefu_no_transaction"


def _savepoint_if_isolated(session) -> None:
    state = session.info.get(_LAZY)
    if state is not None and state["savepoint"] is None and not session.info.get(NO_TRANSACTION):
        state["savepoint"] = session.begin_nested()


def _savepoint_on_first_query(orm_execute_state) -> None:
    _savepoint_if_isolated(orm_execute_state.session)


def core_connection(session):
    """``session``'s connection, to run a Core statement past the ORM.

    Why: ``session.execute`` sets up an ORM context for every statement,
    which on a page of listed tickets cost as much as the database's own
    work. The statement runs in the session's transaction all the same, and
    inside an isolated plugin call the savepoint opens first, as the
    session's execute would open it. Contract: the caller reads columns, not
    ORM objects, and needs no autoflush (pending changes are not written first).
    """
    _savepoint_if_isolated(session)
    return session.connection()


def install() -> None:
    """Listen for isolated calls' first queries on every session (idempotent)."""
    if not event.contains(Session, "do_orm_execute", _savepoint_on_first_query):
        event.listen(Session, "do_orm_execute", _savepoint_on_first_query)


@contextmanager
def isolated(session):
    """Run one plugin call so that its failure cannot harm the use case: no
    autoflush (the use case's pending changes are not the plugin's to
    write), and a savepoint from its first query on, rolled back if it
    raises. Queries must go through the session (``db.session``) to be covered."""
    state, previous = {"savepoint": None}, session.info.get(_LAZY)
    session.info[_LAZY] = state
    try:
        with session.no_autoflush:
            yield
    except BaseException:
        session.info[_LAZY] = previous
        if state["savepoint"] is not None and state["savepoint"].is_active:
            state["savepoint"].rollback()
        raise
    session.info[_LAZY] = previous
    if state["savepoint"] is not None and state["savepoint"].is_active:
        state["savepoint"].commit()
