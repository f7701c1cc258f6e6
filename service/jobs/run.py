"""Running one job: the app it runs in, a fresh session per run, and the
RQ entry points for outbox jobs and periodic jobs."""
from __future__ import annotations

import os
import re
from contextlib import contextmanager

from sqlalchemy import update

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
            # A forked process (a plain ``rq worker``'s work horse) must not
            # share the parent's pooled connections; ``kefu worker`` runs jobs
            # in its own process and keeps its pool from job to job.
            db.engine.dispose(close=False)
            _BOUND["pid"] = os.getpid()
        try:
            yield app
        finally:
            db.session.remove()
            failures.flush(app)


# SQLAlchemy appends "(Background on this error at: https://sqlalche.me/...)"
# to its messages: noise for an admin reading why a job failed.
_BACKGROUND = re.compile(r"\s*\(Background on this error at: [^)]*\)")


def error_text(error) -> str:
    """What an admin reads of a job's error: the exception's type and message
    (or ``error`` as given), without SQLAlchemy's documentation link, at
    most 2000 characters."""
    text = error if isinstance(error, str) else f"{type(error).__name__}: {error}"
    return _BACKGROUND.sub("", text).strip()[:2000]


def _last_attempt() -> bool:
    """Whether the running RQ job has no retry left (or runs outside RQ)."""
    from rq import get_current_job

    job = get_current_job()
    return job is None or not job.retries_left


def run_outbox(outbox_id: int):
    """RQ entry point for a relayed outbox job: run it unless it already ran.

    Records attempts and the last error on the row, and ``failed_at`` when
    the attempt that failed was the last RQ will make; an exception
    propagates so that RQ retries with backoff.
    """
    with job_context():
        # Taken with one UPDATE ... RETURNING and finished with one UPDATE:
        # no ORM object to load, refresh after the job's rollback, and flush
        # (fewer round trips per job, which is most of a short job's cost).
        taken = db.session.execute(
            update(OutboxJob).where(OutboxJob.id == outbox_id, OutboxJob.done_at.is_(None))
            .values(attempts=OutboxJob.attempts + 1, started_at=utcnow())
            .returning(OutboxJob.name, OutboxJob.kwargs)
            .execution_options(synchronize_session=False)).first()
        if taken is None:
            db.session.rollback()
            return "skipped"
        spec = registry().get(taken.name)
        if spec is None:
            db.session.rollback()  # not an attempt: nothing could run
            raise JobError(f"outbox job {outbox_id} names undeclared job {taken.name!r}")
        kwargs = dict(taken.kwargs or {})
        db.session.commit()
        try:
            result = spec.callable()(**kwargs)
        except Exception as exc:
            db.session.rollback()
            failed = {"last_error": error_text(exc)}
            if _last_attempt():
                failed["failed_at"] = utcnow()
            _finish(outbox_id, **failed)
            raise
        db.session.rollback()  # whatever the job left open is not ours to commit
        _finish(outbox_id, done_at=utcnow())
        return result


def _finish(outbox_id: int, **values) -> None:
    """Set ``values`` on outbox row ``outbox_id`` and commit."""
    db.session.execute(update(OutboxJob).where(OutboxJob.id == outbox_id).values(**values)
                       .execution_options(synchronize_session=False))
    db.session.commit()


def run_periodic(name: str, slot: int | None = None):
    """RQ entry point for period ``slot`` of periodic job ``name`` (see
    ``service.jobs.periodic.run``)."""
    from service.jobs import periodic

    with job_context():
        return periodic.run(name, slot)
