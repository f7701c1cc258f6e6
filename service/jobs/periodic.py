"""Periodic jobs: each period of each job claimed once, in the database.

* **Ticking.** Every worker ticks (``tick``) about once a second. A period
  is ``slot = floor(epoch seconds / interval)``, so all tickers agree on it.
  The first ticker to insert the ``PeriodicRun`` row (job, slot) enqueues
  it; the others find the row and do nothing. A Redis key per slot spares
  the database that insert on most ticks, but the row decides: a wiped
  Redis forgets its keys, not the periods that already ran.
* **Running.** ``run`` takes the job's ``PeriodicLock`` (a conditional
  update of one row, so two runs of one job never overlap, whatever their
  slots) and moves the run from queued or failed to running, in one
  transaction; a run that finds the lock taken or its row claimed does
  nothing. While the job works, a thread renews the lock's lease (every
  third of it): a slow run keeps its lock however long it takes, and only
  a run whose process died lets the lease run out. A run whose later period already ran is skipped: periodic jobs
  catch up on everything due, so an old slot queued behind a backlog has
  nothing left to do.
* **Recovering** (``reconcile``, from the ``jobs.reconcile`` job): a queued
  run whose RQ job vanished is enqueued again until a later period is
  claimed; a failed run is retried (at the pace of the reconciliation)
  while attempts are left; a running run whose lock was not renewed for
  the job's lease died with its worker and counts as failed.
"""
from __future__ import annotations

import logging
import os
import socket
import threading
import time
from datetime import timedelta

from flask import current_app
from rq.exceptions import NoSuchJobError
from rq.job import Job, JobStatus
from sqlalchemy import delete, func, or_, select, update

from service.extensions import db
from service.jobs import registry as jobs
from service.models import PeriodicLock, PeriodicRun
from service.models.base import utcnow

log = logging.getLogger("kefu.jobs")

# RQ states in which a job is still coming: it needs no second enqueue.
WAITING = {JobStatus.QUEUED, JobStatus.SCHEDULED, JobStatus.DEFERRED, JobStatus.STARTED}


def job_id(name: str, slot: int) -> str:
    """The RQ job id of period ``slot`` of periodic job ``name``."""
    return f"kefu-periodic-{name.replace('.', '_')}-{slot}"


def _insert_ignoring_duplicates(model, values: dict):
    """An INSERT that does nothing when the row's unique key exists, on
    SQLite and PostgreSQL alike (no exception, no aborted transaction)."""
    if db.engine.dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    return insert(model).values(**values).on_conflict_do_nothing()


def _enqueue(app, conn, spec: jobs.JobSpec, slot: int) -> None:
    from service.jobs import outbox, run

    outbox.queue(spec.queue, conn).enqueue(
        run.run_periodic, spec.name, slot, job_id=job_id(spec.name, slot),
        job_timeout=spec.timeout, result_ttl=max(600, int(spec.interval) * 2),
        failure_ttl=app.config["JOB_FAILURE_TTL"],
        description=f"{spec.name} (periodic, every {spec.interval} s)")


def tick(app, conn, now: float | None = None) -> list[str]:
    """Claim and enqueue the periodic jobs whose current period nobody has
    claimed yet. Returns the names this call enqueued. Call in an app
    context; commits its own claims."""
    now = time.time() if now is None else now
    started = []
    for spec in jobs.periodic(app):
        slot = int(now // spec.interval)
        # The Redis key is only a shortcut; the database row is the claim.
        if not conn.set(f"kefu:periodic:{spec.name}:{slot}", now, nx=True, ex=int(spec.interval) * 2 + 60):
            continue
        stmt = _insert_ignoring_duplicates(PeriodicRun, {
            "job": spec.name, "slot": slot, "status": "queued", "attempts": 0, "queued_at": utcnow()})
        claimed = db.session.execute(stmt.returning(PeriodicRun.id)).first() is not None
        db.session.commit()
        if claimed:
            _enqueue(app, conn, spec, slot)
            started.append(spec.name)
    return started


def _holder() -> str:
    from rq import get_current_job

    current = get_current_job()
    return f"{socket.gethostname()}:{os.getpid()}:{current.id if current else 'local'}"[:200]


def _take_lock(spec: jobs.JobSpec, slot: int, holder: str) -> bool:
    now = utcnow()
    db.session.execute(_insert_ignoring_duplicates(PeriodicLock, {"job": spec.name}))
    # One statement: of two runs racing, the database lets one update the row.
    taken = db.session.execute(
        update(PeriodicLock)
        .where(PeriodicLock.job == spec.name,
               or_(PeriodicLock.holder.is_(None), PeriodicLock.since < now - timedelta(seconds=spec.lease_seconds)))
        .values(holder=holder, slot=slot, since=now)).rowcount
    return taken == 1


def _release_lock(name: str, holder: str) -> None:
    db.session.execute(update(PeriodicLock).where(PeriodicLock.job == name, PeriodicLock.holder == holder)
                       .values(holder=None, since=None))


class _LeaseRenewer(threading.Thread):
    """Keeps ``holder``'s lock on periodic job ``name`` fresh while its run
    works, on a connection of its own (the job's session is the job's)."""

    def __init__(self, app, name: str, holder: str, every: float):
        super().__init__(name=f"kefu-lease-{name}", daemon=True)
        self.app, self.job, self.holder, self.every = app, name, holder, every
        self.stopping = threading.Event()

    def run(self) -> None:
        while not self.stopping.wait(self.every):
            try:
                with self.app.app_context(), db.engine.begin() as conn:
                    conn.execute(update(PeriodicLock).where(PeriodicLock.job == self.job,
                                                            PeriodicLock.holder == self.holder)
                                 .values(since=utcnow()))
            except Exception as exc:  # noqa: BLE001 - a blink: the next round tries again, the lease has slack
                log.warning("periodic run %s: could not renew its lock: %s", self.job, exc)

    def stop(self) -> None:
        self.stopping.set()
        self.join(timeout=self.every + 30)


def run(name: str, slot: int | None) -> str:
    """Run period ``slot`` of periodic job ``name`` unless it ran, runs
    elsewhere or was overtaken by a later period. Returns what happened:
    ``"done"``, ``"skipped"`` or ``"busy"`` (another run of the job holds
    its lock; the period is tried again by ``reconcile``). An exception
    from the job marks the run failed and propagates (RQ lists it)."""
    spec = jobs.registry()[name]
    if slot is None:  # enqueued by a kefu before periodic runs were rows
        slot = int(time.time() // spec.interval)
    holder = _holder()
    row = db.session.scalar(select(PeriodicRun).where(PeriodicRun.job == name, PeriodicRun.slot == slot))
    if row is None:  # a slot enqueued without a claim (an old tick): claim it now
        db.session.execute(_insert_ignoring_duplicates(PeriodicRun, {
            "job": name, "slot": slot, "status": "queued", "attempts": 0, "queued_at": utcnow()}))
        db.session.commit()
    later = db.session.scalar(select(PeriodicRun.id).where(
        PeriodicRun.job == name, PeriodicRun.slot > slot, PeriodicRun.status.in_(("running", "done"))).limit(1))
    if later is not None:
        db.session.execute(update(PeriodicRun).where(
            PeriodicRun.job == name, PeriodicRun.slot == slot, PeriodicRun.status.in_(("queued", "failed")))
            .values(status="skipped", finished_at=utcnow()))
        db.session.commit()
        return "skipped"
    if not _take_lock(spec, slot, holder):
        db.session.rollback()
        return "busy"
    claimed = db.session.execute(
        update(PeriodicRun)
        .where(PeriodicRun.job == name, PeriodicRun.slot == slot, PeriodicRun.status.in_(("queued", "failed")))
        .values(status="running", attempts=PeriodicRun.attempts + 1, started_at=utcnow(), finished_at=None)
    ).rowcount
    if not claimed:
        db.session.rollback()
        return "skipped"
    # Earlier periods still waiting have nothing left to do once this one runs.
    db.session.execute(update(PeriodicRun).where(
        PeriodicRun.job == name, PeriodicRun.slot < slot, PeriodicRun.status.in_(("queued", "failed")))
        .values(status="skipped", finished_at=utcnow()))
    db.session.commit()
    renewer = _LeaseRenewer(current_app._get_current_object(), name, holder, max(1.0, spec.lease_seconds / 3))
    renewer.start()
    try:
        spec.callable()(**spec.kwargs)
    except Exception as exc:
        renewer.stop()
        db.session.rollback()
        _finish(name, slot, holder, "failed", error=f"{type(exc).__name__}: {exc}")
        raise
    renewer.stop()
    db.session.rollback()  # whatever the job left open is not ours to commit
    _finish(name, slot, holder, "done")
    return "done"


def _finish(name: str, slot: int, holder: str, status: str, error: str | None = None) -> None:
    """Record how the run ended and release the job's lock. A database that
    blinked (the very error that may have ended the run) is waited for a
    few seconds: a run left "running" would hold its job's lock, and with it
    every later period, until its lease ran out."""
    from service.db_errors import is_database_unavailable
    from service.jobs.run import error_text

    values = {"status": status, "finished_at": utcnow()}
    if error is not None:
        values["last_error"] = error_text(error)
    for wait in (1, 2, 4, 8, 0):
        try:
            db.session.execute(update(PeriodicRun).where(
                PeriodicRun.job == name, PeriodicRun.slot == slot, PeriodicRun.status == "running").values(**values))
            _release_lock(name, holder)
            db.session.commit()
            return
        except Exception as exc:
            if not wait or not is_database_unavailable(exc):
                raise
            log.warning("periodic run %s/%s: recording its end waits for the database: %s", name, slot, exc)
            try:
                db.session.rollback()
            except Exception:  # noqa: BLE001 - the connection is gone; the next attempt takes another
                db.session.close()
            time.sleep(wait)


def reconcile(app, conn, now: float | None = None) -> dict:
    """Recover periodic runs Redis or a dead worker lost (see the module
    docstring), and delete finished runs older than
    ``PERIODIC_RUNS_KEEP_DAYS``. Returns counts: ``requeued``, ``retried``,
    ``abandoned``, ``skipped``, ``pruned``. Commits."""
    now = time.time() if now is None else now
    moment = utcnow()
    grace = timedelta(seconds=app.config["JOB_RECONCILE_GRACE_SECONDS"])
    specs = {spec.name: spec for spec in jobs.periodic(app)}
    counts = {"requeued": 0, "retried": 0, "abandoned": 0, "skipped": 0}
    rows = db.session.scalars(select(PeriodicRun).where(
        PeriodicRun.status.in_(("queued", "failed", "running"))).order_by(PeriodicRun.id)).all()
    newest = dict(db.session.execute(select(PeriodicRun.job, func.max(PeriodicRun.slot)).group_by(PeriodicRun.job)).all())
    locks = {lock.job: lock for lock in db.session.scalars(select(PeriodicLock))}
    for row in rows:
        spec = specs.get(row.job)
        if row.status == "running":
            lease = timedelta(seconds=spec.lease_seconds if spec else 3600)
            lock = locks.get(row.job)
            # Alive while its lock is held for it and renewed within the lease.
            renewed = (lock.since if lock is not None and lock.holder is not None and lock.slot == row.slot
                       else None)
            if row.started_at < moment - lease and (renewed is None or renewed < moment - lease):
                row.status, row.finished_at, row.last_error = "failed", moment, "the run was abandoned (worker died?)"
                db.session.execute(update(PeriodicLock).where(PeriodicLock.job == row.job, PeriodicLock.slot == row.slot)
                                   .values(holder=None, since=None))
                counts["abandoned"] += 1
            continue
        if spec is None or row.slot < newest[row.job]:
            # A later period was claimed: its run covers what this one would have done.
            row.status, row.finished_at = "skipped", moment
            counts["skipped"] += 1
            continue
        if row.status == "failed":
            retries, _ = jobs.retry_intervals(app, spec)
            if row.attempts > retries:
                continue
            row.status, row.queued_at = "queued", moment
            _enqueue(app, conn, spec, row.slot)
            counts["retried"] += 1
            continue
        if row.queued_at > moment - grace:
            continue
        try:
            status = Job.fetch(job_id(row.job, row.slot), connection=conn).get_status()
        except NoSuchJobError:
            status = None
        if status not in WAITING:  # lost with Redis, or ran and found the lock busy
            row.queued_at = moment
            _enqueue(app, conn, spec, row.slot)
            counts["requeued"] += 1
    # Finished periods are kept a while for admins, not for ever: the relay
    # alone claims 5,760 periods a day.
    keep = timedelta(days=app.config["PERIODIC_RUNS_KEEP_DAYS"])
    counts["pruned"] = db.session.execute(delete(PeriodicRun).where(
        PeriodicRun.status.in_(("done", "skipped")), PeriodicRun.finished_at < moment - keep)).rowcount
    db.session.commit()
    return counts
