"""Which database errors mean the database is out of reach (an outage to
answer with 503 and wait out) rather than a fault of the request or the code.

Used by the web layer (the 503), the hook manager (a plugin whose query met
an outage did not fail: the database did) and anything else that must tell
the two apart.
"""
from __future__ import annotations

from sqlalchemy import exc as sa_exc

# SQLSTATEs with which a PostgreSQL server refuses or drops a connection:
# class 08 (connection exception), shutting down (57P01 admin, 57P02 crash),
# starting up or in recovery (57P03), out of connection slots (53300).
_UNAVAILABLE_STATES = {"57P01", "57P02", "57P03", "53300"}


def is_database_unavailable(exc: BaseException) -> bool:
    """True when ``exc`` says the database cannot be reached now (worth a 503
    and a retry), False for any other error.

    Unreachable: the pool had no connection to give in time
    (``sqlalchemy.exc.TimeoutError``) or could not make one work
    (``DisconnectionError``); the driver lost the connection (SQLAlchemy's
    ``connection_invalidated``); connecting failed before the server said a
    word (a driver error with no SQLSTATE, e.g. connection refused) or the
    server refused with a connection-level SQLSTATE; a use case went on
    after a swallowed disconnect (``PendingRollbackError`` about an invalid
    transaction). Mistakes in SQL, constraint violations and SQLite's errors
    (which carry no SQLSTATE at all) are not.
    """
    if isinstance(exc, (sa_exc.TimeoutError, sa_exc.DisconnectionError)):
        return True
    if isinstance(exc, sa_exc.PendingRollbackError):
        # A plugin's isolated failure may have been the disconnect itself.
        return "reconnect until invalid" in str(exc)
    if not isinstance(exc, (sa_exc.OperationalError, sa_exc.InterfaceError)):
        return False
    if exc.connection_invalidated:
        return True
    orig = exc.orig
    if not hasattr(orig, "sqlstate"):  # not a PostgreSQL driver (SQLite: a file, not a server)
        return False
    state = orig.sqlstate
    if state is None:
        # psycopg gives no SQLSTATE when the server never answered.
        return isinstance(exc, sa_exc.OperationalError)
    return state.startswith("08") or state in _UNAVAILABLE_STATES
