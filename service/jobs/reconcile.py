"""Making the outbox and RQ agree again after Redis lost jobs or a worker died.

The outbox row is the record of a job; RQ only carries it. ``outbox_rows``
looks at every relayed row not yet done or failed, older than
``JOB_RECONCILE_GRACE_SECONDS``, and asks RQ about its job:

* **gone** (Redis restarted empty, a failover to a replica that had not
  seen it, an eviction): relayed again at once;
* **failed** (no retry left, or abandoned with none left): the row is
  marked failed, for an admin to retry;
* **finished, stopped or canceled** while the row is not done, once the
  job's lease has passed: relayed again;
* **queued, scheduled, deferred or started**: left to RQ, which retries and
  recovers abandoned jobs itself.

Relaying again is safe: ``run_outbox`` skips a row that is done and
``effect_once`` keeps each mail or delivery single.
"""
from __future__ import annotations

import logging
from datetime import timedelta

from flask import current_app
from redis.exceptions import RedisError
from rq.job import Job, JobStatus
from sqlalchemy import select

from service.extensions import db
from service.jobs import outbox, periodic
from service.jobs import registry as jobs
from service.models import OutboxJob
from service.models.base import utcnow

log = logging.getLogger("kefu.jobs")

BATCH = 500


def outbox_rows(app, conn) -> dict:
    """Reconcile relayed, unfinished outbox rows with RQ (see the module
    docstring). Returns counts: ``relayed_again``, ``failed``, ``checked``.
    Commits."""
    now = utcnow()
    grace = timedelta(seconds=app.config["JOB_RECONCILE_GRACE_SECONDS"])
    specs = jobs.registry(app)
    counts = {"relayed_again": 0, "failed": 0, "checked": 0}
    after = 0
    while True:
        rows = db.session.scalars(
            select(OutboxJob)
            .where(OutboxJob.relayed_at.is_not(None), OutboxJob.relayed_at < now - grace,
                   OutboxJob.done_at.is_(None), OutboxJob.failed_at.is_(None), OutboxJob.id > after)
            .order_by(OutboxJob.id).limit(BATCH).with_for_update(skip_locked=True)).all()
        if not rows:
            break
        after = rows[-1].id
        found = Job.fetch_many([f"kefu-outbox-{row.id}" for row in rows], connection=conn)
        again = []
        for row, job in zip(rows, found):
            counts["checked"] += 1
            spec = specs.get(row.name)
            if spec is None:
                continue  # undeclared: the relay already said so on the row
            status = job.get_status(refresh=False) if job is not None else None
            if status == JobStatus.FAILED:
                row.failed_at = now
                row.last_error = row.last_error or "the job failed in RQ with no retry left"
                counts["failed"] += 1
            elif status is None or (status in (JobStatus.FINISHED, JobStatus.STOPPED, JobStatus.CANCELED)
                                    and row.relayed_at < now - timedelta(seconds=spec.lease_seconds)):
                again.append(row)
        for row in again:
            outbox.enqueue_row(row, specs[row.name], conn, app)
            row.relayed_at, row.relays = utcnow(), (row.relays or 0) + 1
            counts["relayed_again"] += 1
        db.session.commit()
    if counts["relayed_again"] or counts["failed"]:
        log.warning("outbox reconciled: %(relayed_again)d relayed again (their RQ jobs were gone), "
                    "%(failed)d failed for good", counts)
    return counts


def reconcile_job() -> dict:
    """The periodic ``jobs.reconcile`` job: relay what is left, then make the
    outbox and the periodic runs agree with RQ. Returns the counts."""
    app = current_app._get_current_object()
    conn = outbox.connection(app)
    result = {"relayed": outbox.relay_job()}
    if conn is None:
        return result
    try:
        result["outbox"] = outbox_rows(app, conn)
        result["periodic"] = periodic.reconcile(app, conn)
    except RedisError as exc:  # Redis went away again: the next run carries on
        db.session.rollback()
        log.warning("reconciliation stopped: %s", exc)
    return result
