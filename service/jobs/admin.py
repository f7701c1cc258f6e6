"""What admins see of background work: outbox counts, failed RQ jobs, retrying them."""
from __future__ import annotations

import re

from rq.exceptions import NoSuchJobError
from rq.job import Job
from rq.registry import FailedJobRegistry
from sqlalchemy import func, select

from service.domain.errors import NotFound, ValidationFailed
from service.extensions import db
from service.jobs.outbox import connection, queue
from service.jobs.registry import queues
from service.models import OutboxJob


# RQ's own rule for job ids (rq.job.JOB_ID_PATTERN), with a length bound:
# RQ raises ValueError for anything else, which must be the client's 422.
JOB_ID = re.compile(r"[A-Za-z0-9_-]{1,128}")


def outbox_counts() -> dict:
    """Outbox rows by state: ``unrelayed``, ``running`` (relayed, not done), ``failing`` (with an error)."""
    row = db.session.execute(select(
        func.count().filter(OutboxJob.relayed_at.is_(None)),
        func.count().filter(OutboxJob.relayed_at.is_not(None), OutboxJob.done_at.is_(None)),
        func.count().filter(OutboxJob.done_at.is_(None), OutboxJob.last_error.is_not(None)),
    )).one()
    return {"unrelayed": row[0], "running": row[1], "failing": row[2]}


def failed_jobs(limit: int = 100) -> list[dict]:
    """The failed RQ jobs of every queue, newest first (at most ``limit``);
    none in a process without a job queue."""
    conn = connection()
    if conn is None:
        return []
    out = []
    for name in queues():
        registry = FailedJobRegistry(queue=queue(name, conn))
        for job in Job.fetch_many(registry.get_job_ids(0, limit - 1), connection=conn):
            if job is None:
                continue
            result = job.latest_result()  # one round trip to Redis
            error = (result.exc_string if result else "") or ""
            out.append({"id": job.id, "queue": name, "description": job.description,
                        "ended_at": job.ended_at, "error": error.strip().splitlines()[-1] if error.strip() else ""})
    out.sort(key=lambda j: j["ended_at"] or 0, reverse=True)
    return out[:limit]


def summary() -> dict:
    """Outbox counts and failed jobs (failed jobs empty when there is no queue here)."""
    return {"outbox": outbox_counts(), "failed": failed_jobs()}


def retry(job_id: str) -> None:
    """Requeue failed job ``job_id`` (404 when there is no such failed job,
    which includes a process without a job queue: it sees no failed jobs);
    422 naming ``job_id`` when it cannot be a job id."""
    if not JOB_ID.fullmatch(job_id):
        raise ValidationFailed("not a job id", {"job_id": ["must be 1 to 128 of A-Z, a-z, 0-9, _ and -"]})
    conn = connection()
    if conn is None:
        raise NotFound(f"no failed job {job_id} (this process has no job queue)")
    try:
        job = Job.fetch(job_id, connection=conn)
    except NoSuchJobError:
        raise NotFound(f"no job {job_id}") from None
    registry = FailedJobRegistry(queue=queue(job.origin, conn))
    if job_id not in registry.get_job_ids():
        raise NotFound(f"job {job_id} has not failed")
    registry.requeue(job_id)
