"""What admins see of background work: outbox counts, failed RQ jobs, retrying them."""
from __future__ import annotations

import re
from datetime import timedelta

import logging

from redis.exceptions import RedisError
from rq.exceptions import NoSuchJobError
from rq.job import Job
from rq.registry import FailedJobRegistry
from sqlalchemy import and_, func, or_, select

from service.domain.errors import NotFound, ValidationFailed
from service.extensions import db
from service.jobs.outbox import connection, queue, relay
from service.jobs.registry import queues, registry
from service.models import OutboxJob
from service.models.base import utcnow

log = logging.getLogger("kefu.jobs")


# RQ's own rule for job ids (rq.job.JOB_ID_PATTERN), with a length bound:
# RQ raises ValueError for anything else, which must be the client's 422.
JOB_ID = re.compile(r"[A-Za-z0-9_-]{1,128}")


OUTBOX_ROW = re.compile(r"(?:kefu-outbox-)?([0-9]{1,12})")


def outbox_counts() -> dict:
    """Outbox rows not done, by state (each row in exactly one of the first five):

    ``pending`` committed, not yet on a queue (Redis down?); ``relayed`` on a
    queue, not started; ``running`` started, no error yet; ``retrying`` an
    attempt failed, RQ will try again; ``failed`` no retry left (an admin
    retries it). ``stale`` counts the rows among the relayed, running and
    retrying ones that have outlived their job's lease (the reconciliation
    relays them again unless RQ still holds them).
    The old names stay for API clients: ``unrelayed`` is ``pending``,
    ``failing`` is ``retrying`` plus ``failed``.
    """
    open_ = and_(OutboxJob.done_at.is_(None), OutboxJob.failed_at.is_(None))
    relayed = and_(open_, OutboxJob.relayed_at.is_not(None))
    row = db.session.execute(select(
        func.count().filter(open_, OutboxJob.relayed_at.is_(None)),
        func.count().filter(relayed, OutboxJob.started_at.is_(None), OutboxJob.last_error.is_(None)),
        func.count().filter(relayed, OutboxJob.started_at.is_not(None), OutboxJob.last_error.is_(None)),
        func.count().filter(relayed, OutboxJob.last_error.is_not(None)),
        func.count().filter(OutboxJob.done_at.is_(None), OutboxJob.failed_at.is_not(None)),
    )).one()
    counts = dict(zip(("pending", "relayed", "running", "retrying", "failed"), row))
    now, specs, stale = utcnow(), registry(), 0
    names = db.session.scalars(select(OutboxJob.name).where(relayed).distinct()).all()
    for name in names:
        lease = specs[name].lease_seconds if name in specs else 0
        stale += db.session.scalar(select(func.count()).where(
            relayed, OutboxJob.name == name, OutboxJob.relayed_at < now - timedelta(seconds=lease)))
    counts["stale"] = stale
    counts["unrelayed"], counts["failing"] = counts["pending"], counts["retrying"] + counts["failed"]
    return counts


OUTBOX_STATES = ("scheduled", "queued", "running", "retrying", "failed")


def _state_filters(now) -> dict:
    # Each row not done is in exactly one state: the first that matches.
    open_ = and_(OutboxJob.done_at.is_(None), OutboxJob.failed_at.is_(None))
    waiting = and_(open_, OutboxJob.started_at.is_(None), OutboxJob.last_error.is_(None))
    return {
        "scheduled": and_(waiting, OutboxJob.run_at.is_not(None), OutboxJob.run_at > now),
        "queued": and_(waiting, or_(OutboxJob.run_at.is_(None), OutboxJob.run_at <= now)),
        "running": and_(open_, OutboxJob.started_at.is_not(None), OutboxJob.last_error.is_(None)),
        "retrying": and_(open_, OutboxJob.last_error.is_not(None)),
        "failed": and_(OutboxJob.done_at.is_(None), OutboxJob.failed_at.is_not(None)),
    }


def outbox_states(limit: int = 50) -> dict:
    """The jobs not done, by what they wait for, as the admin jobs page shows them.

    ``{"counts": {state: n}, "rows": {state: [OutboxJob, ...]}}`` for each of
    ``OUTBOX_STATES`` (every unfinished row in exactly one):

    * ``scheduled``: not before a time still ahead (``run_at`` in the future),
      whether or not it is on a queue yet - a reminder due in an hour is
      neither queued nor running;
    * ``queued``: due now, not started (on a queue, or waiting to be put on one);
    * ``running``: started, no error so far;
    * ``retrying``: an attempt failed, a retry is left;
    * ``failed``: no retry left (an admin retries it).

    ``rows`` are the next ``limit`` of each state: scheduled by due time,
    the others oldest first; failed newest first.
    """
    now = utcnow()
    filters = _state_filters(now)
    counts = dict(zip(OUTBOX_STATES, db.session.execute(
        select(*(func.count().filter(filters[state]) for state in OUTBOX_STATES))).one()))
    order = {"scheduled": (OutboxJob.run_at, OutboxJob.id), "failed": (OutboxJob.failed_at.desc(), OutboxJob.id.desc())}
    rows = {state: db.session.scalars(select(OutboxJob).where(filters[state])
                                      .order_by(*order.get(state, (OutboxJob.id,))).limit(limit)).all()
            if counts[state] else [] for state in OUTBOX_STATES}
    return {"counts": counts, "rows": rows}


def failed_jobs(limit: int = 100) -> list[dict]:
    """The failed RQ jobs of every queue, newest first (at most ``limit``);
    none in a process without a job queue."""
    conn = connection()
    if conn is None:
        return []
    out = []
    try:
        for name in queues():
            out.extend(_failed_in(name, conn, limit))
    except RedisError as exc:
        # Redis away is when an admin looks here most: the outbox counts
        # (from the database) still answer; the failed list says why it is empty.
        log.warning("failed jobs not listed: Redis does not answer: %s", exc)
        raise QueueUnreachable() from exc
    out.sort(key=lambda j: j["ended_at"] or 0, reverse=True)
    return out[:limit]


def _failed_in(name: str, conn, limit: int) -> list[dict]:
    out = []
    registry_ = FailedJobRegistry(queue=queue(name, conn))
    for job in Job.fetch_many(registry_.get_job_ids(0, limit - 1), connection=conn):
        if job is None:
            continue
        result = job.latest_result()  # one round trip to Redis
        error = (result.exc_string if result else "") or ""
        out.append({"id": job.id, "queue": name, "description": job.description,
                    "ended_at": job.ended_at, "error": error.strip().splitlines()[-1] if error.strip() else ""})
    return out


class QueueUnreachable(RuntimeError):
    """Redis did not answer while listing failed jobs."""


def summary() -> dict:
    """Outbox counts, failed jobs (empty when there is no queue here) and
    ``queue``: ``"ok"``, ``"none"`` (no job queue in this process) or
    ``"unreachable"`` (Redis does not answer; failed jobs cannot be listed,
    the outbox counts come from the database and still do)."""
    try:
        failed, state = failed_jobs(), ("ok" if connection() is not None else "none")
    except QueueUnreachable:
        failed, state = [], "unreachable"
    return {"outbox": outbox_counts(), "failed": failed, "queue": state}


def retry(job_id: str) -> None:
    """Run job ``job_id`` again: a failed RQ job by its id, or any outbox
    row that is not done by its number (``42`` or ``kefu-outbox-42``),
    whatever state it is in. 404 when there is no such failed job or
    unfinished row (a process without a job queue sees no RQ jobs); 422
    naming ``job_id`` when it cannot be a job id."""
    if not JOB_ID.fullmatch(job_id):
        raise ValidationFailed("not a job id", {"job_id": ["must be 1 to 128 of A-Z, a-z, 0-9, _ and -"]})
    outbox_row = OUTBOX_ROW.fullmatch(job_id)
    if outbox_row:
        _retry_outbox_row(int(outbox_row.group(1)))
        return
    conn = connection()
    if conn is None:
        raise NotFound(f"no failed job {job_id} (this process has no job queue)")
    try:
        job = Job.fetch(job_id, connection=conn)
    except NoSuchJobError:
        raise NotFound(f"no job {job_id}") from None
    registry_ = FailedJobRegistry(queue=queue(job.origin, conn))
    if job_id not in registry_.get_job_ids():
        raise NotFound(f"job {job_id} has not failed")
    registry_.requeue(job_id)


def _retry_outbox_row(row_id: int) -> None:
    row = db.session.get(OutboxJob, row_id)
    if row is None or row.done_at is not None:
        raise NotFound(f"no unfinished outbox job {row_id}")
    row.failed_at = None
    conn = connection()
    job_id = f"kefu-outbox-{row_id}"
    if conn is not None and row.relayed_at is not None:
        try:
            job = Job.fetch(job_id, connection=conn)
        except NoSuchJobError:
            job = None
        failed = FailedJobRegistry(queue=queue(job.origin, conn)) if job is not None else None
        if failed is not None and job_id in failed.get_job_ids():
            db.session.commit()
            failed.requeue(job_id)
            return
    # Relayed again from the row: RQ has nothing of it (a Redis wipe) or
    # holds it waiting; the new job replaces it.
    row.relayed_at = None
    db.session.commit()
    relay([row_id])
