"""Background jobs on RQ: what jobs exist, how a use case asks for one, how one runs.

* **Declared as data.** The core's jobs are in ``CORE_JOBS``; plugins add
  theirs through the ``register_jobs`` collector. A job is a name, a
  ``"module:function"``, a queue, and for periodic jobs an ``interval`` in
  seconds (``JOB_INTERVALS`` in the settings overrides it; 0 turns it off).
* **After commit only.** ``enqueue`` writes an ``OutboxJob`` row in the
  caller's transaction; ``service.jobs.outbox`` relays committed rows to RQ. A
  rolled-back change enqueues nothing; rows committed while Redis is down
  are relayed when it is back.
* **Ids, never ORM objects.** Job arguments must be JSON: ids, codes, text.
* **Once per effect.** A job may run twice (retry, duplicate delivery, a
  worker killed mid-job); ``effect_once`` makes each e-mail or webhook
  delivery happen once.
"""
from __future__ import annotations

import importlib
import json
import logging
import os
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from service.extensions import db
from service.models import JobEffect, OutboxJob
from service.models.base import utcnow

log = logging.getLogger("kefu.jobs")

QUEUES = ("default", "mail", "webhooks", "sla")
_PENDING = "kefu_outbox_new"  # session.info: rows enqueued in the current transaction

CORE_JOBS = [
    {"name": "outbox.relay", "func": "service.jobs.outbox:relay_job", "queue": "default", "interval": 15,
     "retries": 0},
    {"name": "tickets.autoclose", "func": "service.jobs.core:autoclose", "queue": "default", "interval": 3600},
    {"name": "mail.notice", "func": "service.mail.outgoing.notices:send_notice", "queue": "mail"},
    {"name": "mail.staff_alert", "func": "service.mail.outgoing.notices:send_staff_alert", "queue": "mail"},
    {"name": "mail.staff_alerts", "func": "service.mail.outgoing.notices:send_staff_alerts", "queue": "mail"},
    {"name": "mail.imap_poll", "func": "service.mail.incoming.imap:poll_job", "queue": "mail", "interval": 60,
     "retries": 0},
]


@dataclass(frozen=True)
class JobSpec:
    """One declared job. ``interval`` (seconds) makes it periodic."""

    name: str
    func: str
    queue: str = "default"
    interval: int | None = None
    retries: int | None = None  # None: JOB_RETRIES
    timeout: int = 300
    kwargs: dict = field(default_factory=dict)  # for periodic runs
    source: str = "core"

    def callable(self):
        module, _, attr = self.func.partition(":")
        return getattr(importlib.import_module(module), attr)


class JobError(RuntimeError):
    """A job was declared or asked for wrongly (a programming error, not bad input)."""


class EffectBusy(RuntimeError):
    """Another run of the same effect is in flight; retry later."""


def _spec(entry: dict, source: str) -> JobSpec:
    if not isinstance(entry, dict) or not entry.get("name") or ":" not in str(entry.get("func", "")):
        raise JobError(f"{source}: a job needs a name and func 'module:function', got {entry!r}")
    queue = entry.get("queue") or "default"
    if queue not in QUEUES:
        raise JobError(f"{source}: job {entry['name']} names unknown queue {queue!r} (one of {QUEUES})")
    unknown = set(entry) - {"name", "func", "queue", "interval", "retries", "timeout", "kwargs"}
    if unknown:
        raise JobError(f"{source}: job {entry['name']} has unknown keys {sorted(unknown)}")
    return JobSpec(name=entry["name"], func=entry["func"], queue=queue, interval=entry.get("interval"),
                   retries=entry.get("retries"), timeout=int(entry.get("timeout") or 300),
                   kwargs=dict(entry.get("kwargs") or {}), source=source)


def registry(app=None) -> dict[str, JobSpec]:
    """Every declared job by name (core first, then plugins), built once per app.

    Raises ``JobError`` for a malformed declaration or a name declared twice.
    """
    app = app or current_app._get_current_object()
    specs = app.extensions.get("kefu_jobs")
    if specs is None:
        specs = {}
        overrides = app.config.get("JOB_INTERVALS") or {}
        plugin_entries = app.extensions["kefu_plugins"].collect_with_names("register_jobs", app=app)
        for source, entry in [("core", e) for e in CORE_JOBS] + plugin_entries:
            spec = _spec(entry, source)
            if spec.name in specs:
                raise JobError(f"job {spec.name} is declared twice ({specs[spec.name].source}, {source})")
            if spec.name in overrides:
                spec = JobSpec(**{**spec.__dict__, "interval": overrides[spec.name] or None})
            specs[spec.name] = spec
        app.extensions["kefu_jobs"] = specs
    return specs


def periodic(app=None) -> list[JobSpec]:
    """The periodic jobs, those with an interval."""
    return [s for s in registry(app).values() if s.interval]


def retry_intervals(app, spec: JobSpec) -> tuple[int, list[int]]:
    """``(max retries, intervals in seconds)`` for ``spec`` from the settings."""
    retries = app.config["JOB_RETRIES"] if spec.retries is None else spec.retries
    return retries, list(app.config["JOB_RETRY_INTERVALS"])


def _check_kwargs(name: str, kwargs: dict) -> None:
    try:
        json.dumps(kwargs)
    except (TypeError, ValueError) as exc:
        raise JobError(f"job {name}: arguments must be JSON (ids, not objects): {exc}") from exc


def enqueue(name: str, *, dedupe_key: str | None = None, delay: timedelta | None = None,
            run_at: datetime | None = None, **kwargs) -> OutboxJob:
    """Ask for job ``name`` with ``kwargs`` once the current transaction commits.

    Writes an ``OutboxJob`` row in the current session; the caller commits.
    ``dedupe_key``: a second request with the same key (now or later) is the
    same job and returns the first row. ``delay``/``run_at``: not before then.
    Raises ``JobError`` for an undeclared job or arguments that are not JSON.
    """
    spec = registry().get(name)
    if spec is None:
        raise JobError(f"no job named {name!r} is declared")
    _check_kwargs(name, kwargs)
    pending = db.session.info.setdefault(_PENDING, [])
    if dedupe_key:
        for row in pending:
            if row.dedupe_key == dedupe_key:
                return row
        with db.session.no_autoflush:
            existing = db.session.scalar(select(OutboxJob).where(OutboxJob.dedupe_key == dedupe_key))
        if existing is not None:
            return existing
    if delay is not None:
        run_at = utcnow() + delay
    row = OutboxJob(name=name, queue=spec.queue, kwargs=kwargs, dedupe_key=dedupe_key, run_at=run_at,
                    created_at=utcnow(), attempts=0)
    db.session.add(row)
    pending.append(row)
    return row


def take_enqueued(session) -> list[OutboxJob]:
    """Pop the rows ``enqueue`` added in ``session`` since the last call
    (those still in it: a rolled-back savepoint takes its rows along)."""
    rows = session.info.pop(_PENDING, None) or []
    return [row for row in rows if row in session]


def _drop_enqueued(session, previous_transaction) -> None:
    if not previous_transaction.nested:
        session.info.pop(_PENDING, None)


def install() -> None:
    """Forget a transaction's enqueued rows when it rolls back (idempotent)."""
    from sqlalchemy import event
    from sqlalchemy.orm import Session

    if not event.contains(Session, "after_soft_rollback", _drop_enqueued):
        event.listen(Session, "after_soft_rollback", _drop_enqueued)


# --------------------------------------------------------------------------- running

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


def _current_rq_job_id() -> str | None:
    from rq import get_current_job

    job = get_current_job()
    return job.id if job is not None else None


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


# --------------------------------------------------------------------------- effects

@contextmanager
def effect_once(key: str, claim_seconds: int = 120):
    """Guard one side effect: yields True when it should happen now, False when
    it already happened; marks it done when the block ends without error.

    The key is claimed (committed) before the effect. A claim left by a run
    that died is taken over by the same RQ job's retry at once, by others
    after ``claim_seconds``; a live claim by another run raises ``EffectBusy``
    (retried later). Only the window between the effect and marking it done
    can repeat it, which is why e-mails carry a Message-ID derived from
    the key (receivers fold duplicates).
    """
    owner = _current_rq_job_id() or "local"
    now = utcnow()
    effect = db.session.get(JobEffect, key)
    if effect is not None and effect.done_at is not None:
        yield False
        return
    if effect is None:
        db.session.add(JobEffect(key=key, claimed_at=now, detail=f"claimed by {owner}"))
        try:
            db.session.commit()
        except IntegrityError:
            db.session.rollback()
            raise EffectBusy(f"effect {key} was claimed by a concurrent run") from None
    elif effect.detail != f"claimed by {owner}" and effect.claimed_at > now - timedelta(seconds=claim_seconds):
        raise EffectBusy(f"effect {key} is in flight ({effect.detail})")
    else:
        effect.claimed_at, effect.detail = now, f"claimed by {owner}"
        db.session.commit()
    yield True
    effect = db.session.get(JobEffect, key)
    effect.done_at = utcnow()
    effect.detail = f"done by {owner}"
    db.session.commit()
