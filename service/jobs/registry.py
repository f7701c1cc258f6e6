"""Background jobs on RQ: what jobs exist and how a use case asks for one.

How one runs is ``service.jobs.run``; side effects once, ``service.jobs.effects``.


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
import re
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import select

from service.extensions import db
from service.models import OutboxJob
from service.models.base import utcnow

log = logging.getLogger("kefu.jobs")

QUEUES = ("system", "mail", "default")  # the core's; a plugin's jobs may name queues of its own
QUEUE_NAME = re.compile(r"[a-z][a-z0-9_]{0,39}")
DECLARATIONS = "kefu_job_declarations"  # app.extensions: [(plugin, entry)] gathered at start
_PENDING = "kefu_outbox_new"  # session.info: rows enqueued in the current transaction
_OFF: ContextVar[bool] = ContextVar("kefu_outbox_off", default=False)

CORE_JOBS = [
    # The relay and the reconciliation keep every other job alive: their own
    # queue, taken first, so a backlog of mail cannot starve them.
    # A short lease: a run that died holds the next periods back only briefly.
    {"name": "outbox.relay", "func": "service.jobs.outbox:relay_job", "queue": "system", "interval": 15,
     "retries": 0, "timeout": 120, "lease": 60},
    {"name": "jobs.reconcile", "func": "service.jobs.reconcile:reconcile_job", "queue": "system", "interval": 30,
     "retries": 0, "timeout": 120, "lease": 60},
    {"name": "tickets.autoclose", "func": "service.jobs.core:autoclose", "queue": "default", "interval": 3600},
    {"name": "uploads.sweep_held", "func": "service.usecases.held_uploads:sweep", "queue": "default",
     "interval": 3600},
    {"name": "mail.notice", "func": "service.mail.outgoing.notices:send_notice", "queue": "mail"},
    {"name": "mail.staff_alert", "func": "service.mail.outgoing.notices:send_staff_alert", "queue": "mail"},
    {"name": "mail.staff_notices", "func": "service.mail.outgoing.staff_notices:send_staff_notices", "queue": "mail"},
    {"name": "mail.staff_alerts", "func": "service.mail.outgoing.notices:send_staff_alerts", "queue": "mail"},
    {"name": "mail.imap_poll", "func": "service.mail.incoming.imap:poll_job", "queue": "mail", "interval": 60,
     "retries": 0},
]


@dataclass(frozen=True)
class JobSpec:
    """One declared job. ``interval`` (seconds) makes it periodic.

    ``lease`` (seconds): how long a relayed run may go unfinished before it
    is counted stale and, unless RQ still holds it waiting or running, run
    again (its effects stay single through ``effect_once``). By default the
    job's timeout plus a minute.
    """

    name: str
    func: str
    queue: str = "default"
    interval: int | None = None
    retries: int | None = None  # None: JOB_RETRIES
    timeout: int = 300
    kwargs: dict = field(default_factory=dict)  # for periodic runs
    source: str = "core"
    lease: int | None = None

    @property
    def lease_seconds(self) -> int:
        return int(self.lease) if self.lease else self.timeout + 60

    def callable(self):
        module, _, attr = self.func.partition(":")
        return getattr(importlib.import_module(module), attr)


class JobError(RuntimeError):
    """A job was declared or asked for wrongly (a programming error, not bad input)."""


def _spec(entry: dict, source: str) -> JobSpec:
    if not isinstance(entry, dict) or not entry.get("name") or ":" not in str(entry.get("func", "")):
        raise JobError(f"{source}: a job needs a name and func 'module:function', got {entry!r}")
    queue = entry.get("queue") or "default"
    if not isinstance(queue, str) or not QUEUE_NAME.fullmatch(queue):
        raise JobError(f"{source}: job {entry['name']} names queue {queue!r}: a queue is named with "
                       "a-z, 0-9 and _ (at most 40), e.g. default, mail or one of the plugin's own")
    unknown = set(entry) - {"name", "func", "queue", "interval", "retries", "timeout", "kwargs", "lease"}
    if unknown:
        raise JobError(f"{source}: job {entry['name']} has unknown keys {sorted(unknown)}")
    return JobSpec(name=entry["name"], func=entry["func"], queue=queue, interval=entry.get("interval"),
                   retries=entry.get("retries"), timeout=int(entry.get("timeout") or 300),
                   kwargs=dict(entry.get("kwargs") or {}), source=source, lease=entry.get("lease"))


def declare(app, plugin: str, entries) -> None:
    """Add ``plugin``'s ``register_jobs`` answer to ``app``'s jobs (at start),
    checking each entry; ``JobError`` for a malformed one or a name taken."""
    found = app.extensions.setdefault(DECLARATIONS, [])
    names = {e["name"] for e in CORE_JOBS} | {e["name"] for _, e in found}
    for entry in entries:
        spec = _spec(entry, plugin)
        if spec.name in names:
            raise JobError(f"job {spec.name} is declared twice ({plugin} and another)")
        names.add(spec.name)
        found.append((plugin, entry))
    app.extensions.pop("kefu_jobs", None)


def registry(app=None) -> dict[str, JobSpec]:
    """Every declared job by name (core first, then plugins, as declared at
    start), built once per app. ``JOB_INTERVALS`` overrides intervals.

    Raises ``JobError`` for a malformed declaration or a name declared twice.
    """
    app = app or current_app._get_current_object()
    specs = app.extensions.get("kefu_jobs")
    if specs is None:
        specs = {}
        overrides = app.config.get("JOB_INTERVALS") or {}
        for source, entry in [("core", e) for e in CORE_JOBS] + list(app.extensions.get(DECLARATIONS, [])):
            spec = _spec(entry, source)
            if spec.name in specs:
                raise JobError(f"job {spec.name} is declared twice ({specs[spec.name].source}, {source})")
            if spec.name in overrides:
                spec = JobSpec(**{**spec.__dict__, "interval": overrides[spec.name] or None})
            specs[spec.name] = spec
        app.extensions["kefu_jobs"] = specs
    return specs


def queues(app=None) -> list[str]:
    """Every queue some job names, in the order workers take them: system
    first (the relay and reconciliation, short and what everything else
    waits on), mail (customers wait on it), the plugins' own, default last."""
    named = list(dict.fromkeys(spec.queue for spec in registry(app).values()))
    return ["system", "mail"] + [q for q in named if q not in QUEUES] + ["default"]


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


@contextmanager
def outbox_off():
    """The switch ``kefu demo`` builds its made-up history under: inside the
    block (this thread only), every job asked for is written as already
    relayed and done, so it is never sent to a queue, run, or run again by
    the reconciliation - no mail, no webhook, whatever workers are up. Its
    callers still get their row (dedupe keys still hold). The demo deletes
    the rows afterwards."""
    token = _OFF.set(True)
    try:
        yield
    finally:
        _OFF.reset(token)


def enqueue(name: str, *, dedupe_key: str | None = None, delay: timedelta | None = None,
            run_at: datetime | None = None, **kwargs) -> OutboxJob:
    """Ask for job ``name`` with ``kwargs`` once the current transaction commits.

    Writes an ``OutboxJob`` row in the current session; the caller commits.
    ``dedupe_key``: a second request with the same key (now or later) is the
    same job and returns the first row. ``delay``/``run_at``: not before then.
    Raises ``JobError`` for an undeclared job or arguments that are not JSON.
    Inside ``outbox_off`` the row is written as done and nothing runs.
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
    if _OFF.get():
        # See outbox_off: the relay takes only rows not relayed, the
        # reconciliation only rows not done.
        row.relayed_at = row.done_at = row.created_at
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
