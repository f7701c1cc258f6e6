"""Running one job: the app it runs in, a fresh session per run, and the
RQ entry points for outbox jobs and periodic jobs."""
from __future__ import annotations

import os
from contextlib import contextmanager

from service.extensions import db
from service.hooks import failures
from service.jobs.registry import JobError, registry
from service.models import OutboxJob
from service.models.base import utcnow

_BOUND = {}


def bind_app(app) -> None:
    """Make ``app`` the one jobs run in, in this process (worker, runner, tests)."""
    _BOUND["app"] = app
    _BOUND["pid"] = os.getpid()


def _job_app():
    app = _BOUND.get("app")
    if app is None:
        from service import create_app  # a worker started by plain ``rq worker``

        bind_app(create_app())
        app = _BOUND["app"]
    return app


@contextmanager
def job_context():
    """An app context for one job run, with a fresh session removed afterwards."""
    app = _job_app()
    with app.app_context():
        if _BOUND.get("pid") != os.getpid():
            # A forked work horse must not share the parent's pooled connections.
            db.engine.dispose(close=False)
            _BOUND["pid"] = os.getpid()
        try:
            yield app
        finally:
            db.session.remove()
            failures.flush(app)


def run_outbox(outbox_id: int):
    """RQ entry point for a relayed outbox job: run it unless it already ran.

    Records attempts and the last error on the row; an exception propagates
    so that RQ retries with backoff.
    """
    with job_context():
        row = db.session.get(OutboxJob, outbox_id)
        if row is None or row.done_at is not None:
            return "skipped"
        spec = registry().get(row.name)
        if spec is None:
            raise JobError(f"outbox job {outbox_id} names undeclared job {row.name!r}")
        row.attempts += 1
        row.started_at = utcnow()
        kwargs = dict(row.kwargs or {})
        db.session.commit()
        try:
            result = spec.callable()(**kwargs)
        except Exception as exc:
            db.session.rollback()
            row = db.session.get(OutboxJob, outbox_id)
            row.last_error = f"{type(exc).__name__}: {exc}"[:2000]
            db.session.commit()
            raise
        db.session.rollback()  # whatever the job left open is not ours to commit
        row = db.session.get(OutboxJob, outbox_id)
        row.done_at = utcnow()
        db.session.commit()
        return result


def run_periodic(name: str):
    """RQ entry point for one period of periodic job ``name``."""
    with job_context():
        spec = registry()[name]
        return spec.callable()(**spec.kwargs)
