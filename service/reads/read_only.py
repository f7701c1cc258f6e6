"""Reads without a transaction: the request mode of views that only read.

``read_only`` marks a view; ``begin_request`` (the app's first
``before_request``) takes such a request's connection in autocommit mode
before anything reads, and ``end_request`` gives it back.
"""
from __future__ import annotations

from flask import current_app, request

from service.extensions import db
from service.hooks.isolation import NO_TRANSACTION

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
    view get no savepoints (``service.hooks.isolation.NO_TRANSACTION``): outside a
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
