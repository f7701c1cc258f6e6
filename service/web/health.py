"""Serving while a dependency blinks: the probes load balancers and
supervisors ask, and the 503 a request gets while the database is out of reach.

* ``GET /healthz``: 200 ``{"status": "ok"}`` while the process serves. It
  touches nothing (no database, no Redis, no limiter), so a supervisor does
  not restart a process for an outage elsewhere.
* ``GET /readyz``: 200 when this node can do its work - the database
  answers, Redis answers (if ``REDIS_URL`` is set) and the schema is at the
  head of every migration branch (the core's and each enabled plugin's);
  else 503 with ``Retry-After``. Body: ``{"status": "ok" | "unavailable",
  "checks": {"database": "ok" | "unreachable", "redis": "ok" | "unreachable"
  | "not_configured", "migrations": "current" | "ahead" | "behind" |
  "unknown"}}`` ("ahead": a newer release migrated the database, as in a
  rolling upgrade - still ready; "unknown" while the database cannot be read).

Both need no sign-in, are not rate limited, are never cached and are not part
of the OpenAPI document (they are not kefu's API but the deployment's).

A request that meets an unreachable database - a connection refused, lost or
cut by a server shutting down, a pool with no connection to give - answers
503 with ``Retry-After: DB_UNAVAILABLE_RETRY_AFTER``: in the API's error shape
(code ``database_unavailable``) under ``/api/``, as the error page elsewhere.
Every other database error stays what it was (a 500 is a fault to fix, not a
blink to wait out). The transaction the request had open is gone with its
connection, so nothing of it was written.
"""
from __future__ import annotations

import logging

from flask import Blueprint, Flask, current_app, jsonify, render_template, request
from sqlalchemy import exc as sa_exc

from service.db_errors import is_database_unavailable
from service.extensions import db
from service.translate import gettext as _

log = logging.getLogger("kefu.health")

bp = Blueprint("health", __name__)

_HEADS = "kefu_migration_heads"  # app.extensions: the script heads, read once
_KNOWN = "kefu_migration_revisions"  # app.extensions: every revision the scripts know
_REDIS = "kefu_health_redis"  # app.extensions: the probe's own Redis client
def _retry_after() -> str:
    return str(int(current_app.config["DB_UNAVAILABLE_RETRY_AFTER"]))


def _database_unavailable(exc):
    if not is_database_unavailable(exc):
        raise exc  # answered as before: this handler is for outages only
    log.warning("database unreachable, answering 503: %s", str(getattr(exc, "orig", None) or exc).strip())
    headers = {"Retry-After": _retry_after()}
    if request.path.startswith("/api/"):
        from service.api.errors import error_body

        body, status = error_body(503, "database_unavailable",
                                  "the database cannot be reached; retry after the time in Retry-After")
        return body, status, headers
    # The signed-in staff member cannot be looked up now: the page speaks the
    # language the session or the browser asks for.
    request.kefu_console_staff = None
    message = _("The service is briefly unavailable. Please try again in a moment.")
    return render_template("web/error.html", status=503, message=message), 503, headers


def _no_store(body: dict, status: int, headers: dict | None = None):
    response = jsonify(body)
    response.status_code = status
    response.headers.update(headers or {})
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/healthz")
def healthz():
    """200 ``{"status": "ok"}``: the process is up (nothing else is asked)."""
    return _no_store({"status": "ok"}, 200)


@bp.get("/readyz")
def readyz():
    """200 when the database and Redis answer and the schema is current,
    else 503 with ``Retry-After``; the body names each check's state."""
    app = current_app._get_current_object()
    database, migrations = _database_checks(app)
    checks = {"database": database, "redis": _redis_check(app), "migrations": migrations}
    if checks["database"] == "ok" and checks["redis"] in ("ok", "not_configured") \
            and checks["migrations"] in ("current", "ahead"):
        return _no_store({"status": "ok", "checks": checks}, 200)
    return _no_store({"status": "unavailable", "checks": checks}, 503, {"Retry-After": _retry_after()})


def _script_heads(app) -> frozenset[str]:
    # The migration scripts do not change while the process runs: read once.
    heads = app.extensions.get(_HEADS)
    if heads is None:
        from alembic.script import ScriptDirectory

        script = ScriptDirectory.from_config(app.extensions["migrate"].migrate.get_config())
        heads = app.extensions[_HEADS] = frozenset(script.get_heads())
    return heads


def _database_checks(app) -> tuple[str, str]:
    from alembic.runtime.migration import MigrationContext

    try:
        with db.engine.connect() as conn:
            applied = frozenset(MigrationContext.configure(conn).get_current_heads())
    except Exception as exc:  # noqa: BLE001 - a probe answers whatever the database does
        log.warning("readiness: the database does not answer: %s", exc)
        return "unreachable", "unknown"
    heads = _script_heads(app)
    if applied == heads:
        return "ok", "current"
    # A revision this code does not know was applied by a newer release (a
    # rolling upgrade migrates first): this node stays ready, as migrations
    # add before they take away.
    known = app.extensions.get(_KNOWN)
    if known is None:
        from alembic.script import ScriptDirectory
        script = ScriptDirectory.from_config(app.extensions["migrate"].migrate.get_config())
        known = app.extensions[_KNOWN] = frozenset(rev.revision for rev in script.walk_revisions())
    return "ok", ("ahead" if applied - known else "behind")


def _redis_check(app) -> str:
    url = app.config.get("REDIS_URL")
    if not url:
        return "not_configured"
    from redis import Redis
    from redis.exceptions import RedisError

    client = app.extensions.get(_REDIS)
    if client is None:
        # A client of the probe's own, with short timeouts: a load balancer
        # waits a few seconds at most for its answer.
        timeout = app.config["REDIS_TIMEOUT_SECONDS"]
        client = app.extensions[_REDIS] = Redis.from_url(url, socket_connect_timeout=timeout,
                                                         socket_timeout=max(timeout, 1))
    try:
        client.ping()
    except RedisError as exc:
        log.warning("readiness: Redis does not answer: %s", exc)
        return "unreachable"
    return "ok"


def _remove_session(exc: BaseException | None) -> None:
    """Flask-SQLAlchemy's end of request, minus its one failure mode during an
    outage: the session's closing ROLLBACK meeting a server that is shutting
    down raised after the response was made, past every error handler, and
    the client got a bare 500 for a request that had been answered."""
    try:
        db.session.remove()
    except sa_exc.DBAPIError as error:
        if not is_database_unavailable(error):
            raise
        log.warning("the session's connection was lost while closing it: %s", error.orig)
        db.session.registry.clear()  # the dead connection was invalidated with it


def init_app(app: Flask) -> None:
    """Register the probes and the 503 for an unreachable database on ``app``,
    and end each request's session without failing on a lost connection."""
    app.register_blueprint(bp)
    app.teardown_appcontext_funcs[:] = [
        _remove_session if getattr(func, "__func__", None) is type(db)._teardown_session else func
        for func in app.teardown_appcontext_funcs]
    for error in (sa_exc.OperationalError, sa_exc.InterfaceError, sa_exc.TimeoutError,
                  sa_exc.DisconnectionError, sa_exc.PendingRollbackError):
        app.register_error_handler(error, _database_unavailable)
