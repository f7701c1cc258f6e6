"""Relaying committed outbox rows to RQ, and the Redis connection they go over.

``relay`` moves committed ``OutboxJob`` rows onto their RQ queues and marks
them relayed. It runs right after a use case commits (for the rows that
transaction wrote) and as the periodic ``outbox.relay`` job (for anything
left behind: Redis was down, the process died, the rows came from a CLI
command). Relaying twice is harmless: the RQ job id is the row id and
``service.jobs.registry.run_outbox`` skips a row that already ran.
"""
from __future__ import annotations

import logging

from flask import current_app
from redis.exceptions import RedisError
from rq import Queue, Retry
from sqlalchemy import select

from service.extensions import db
from service.jobs import registry as jobs
from service.jobs import run
from service.models import OutboxJob
from service.models.base import utcnow

log = logging.getLogger("kefu.jobs")

BATCH = 200


def connection(app=None):
    """This process's Redis connection for jobs, or None when it has none.

    With ``REDIS_URL``, a real Redis (short timeouts, so a dead Redis costs a
    request little). Without it, the in-process runner's fake Redis when a
    runner was started in this process (``service.jobs.runner``); otherwise None,
    and committed rows wait for a process that has one.
    """
    app = app or current_app._get_current_object()
    conn = app.extensions.get("kefu_redis")
    if conn is None and app.config.get("REDIS_URL"):
        from redis import Redis

        timeout = app.config["REDIS_TIMEOUT_SECONDS"]
        conn = Redis.from_url(app.config["REDIS_URL"], socket_connect_timeout=timeout,
                              socket_timeout=max(timeout, 5))
        app.extensions["kefu_redis"] = conn
    return conn


def queue(name: str, conn) -> Queue:
    """The RQ queue ``name`` (see ``jobs.queues``) on ``conn``."""
    return Queue(name, connection=conn)


def enqueue_row(row: OutboxJob, spec: jobs.JobSpec, conn, app) -> None:
    """Put outbox ``row`` on its RQ queue as job ``kefu-outbox-<id>`` (at its
    ``run_at`` when that is still ahead), with the job's timeout and retries.
    Enqueuing a row again replaces its RQ job: the id is the row's."""
    retries, intervals = jobs.retry_intervals(app, spec)
    options = {
        "job_id": f"kefu-outbox-{row.id}",
        "job_timeout": spec.timeout,
        "description": f"{row.name}({', '.join(f'{k}={v!r}' for k, v in (row.kwargs or {}).items())})"[:200],
        "retry": Retry(max=retries, interval=intervals) if retries else None,
        "failure_ttl": app.config["JOB_FAILURE_TTL"],
        "result_ttl": 3600,
    }
    q = queue(spec.queue, conn)
    if row.run_at is not None and row.run_at > utcnow():
        q.enqueue_at(row.run_at, run.run_outbox, row.id, **options)
    else:
        q.enqueue(run.run_outbox, row.id, **options)


def relay(ids: list[int] | None = None, limit: int = BATCH) -> int:
    """Put committed, unrelayed outbox rows (only ``ids`` if given) on RQ.

    Returns how many rows it handled (relayed, or set aside as naming an
    undeclared job). Without a Redis connection, or when
    Redis fails, the rows stay for a later relay and this returns what got
    through; it never raises for Redis trouble. Call it with no transaction
    of the caller's open: it commits.
    """
    app = current_app._get_current_object()
    conn = connection(app)
    if conn is None:
        return 0
    stmt = select(OutboxJob).where(OutboxJob.relayed_at.is_(None)).order_by(OutboxJob.id).limit(limit)
    if ids is not None:
        if not ids:
            return 0
        stmt = stmt.where(OutboxJob.id.in_(ids))
    # Two relays at once (the request's and the periodic one) skip each other's rows.
    rows = db.session.scalars(stmt.with_for_update(skip_locked=True)).all()
    specs = jobs.registry(app)
    done = 0
    try:
        for row in rows:
            spec = specs.get(row.name)
            if spec is None:
                # Marked relayed (never done), so it leaves the relay's batch
                # instead of blocking every job behind it; admins see it failing.
                row.last_error = f"no job named {row.name!r} is declared (plugin removed?)"
                row.relayed_at = row.failed_at = utcnow()
                done += 1
                continue
            enqueue_row(row, spec, conn, app)
            row.relayed_at = utcnow()
            row.relays = (row.relays or 0) + 1
            done += 1
    except RedisError as exc:
        log.warning("outbox relay stopped, %d of %d relayed; the rest wait: %s", done, len(rows), exc)
    db.session.commit()
    return done


def relay_after_commit(rows: list[OutboxJob]) -> None:
    """Relay the rows a use case has just committed (best effort; see ``relay``)."""
    if not rows:
        return
    app = current_app._get_current_object()
    if connection(app) is None:
        return
    try:
        relay([row.id for row in rows])
    except Exception:  # the change is committed; the periodic relay will retry
        db.session.rollback()
        log.exception("relaying outbox rows after commit failed; the periodic relay will retry")


def relay_job() -> int:
    """The periodic ``outbox.relay`` job: relay everything left behind."""
    total = 0
    while True:
        done = relay()
        total += done
        if done == 0:
            return total
