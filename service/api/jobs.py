"""Background jobs for admins: outbox counts, failed jobs, retrying one."""
from __future__ import annotations

import marshmallow as ma
from flask_smorest import Blueprint
from marshmallow import fields

from service.jobs import admin as job_admin
from service.usecases.auth import authenticate, require_role

blp = Blueprint("jobs", __name__, url_prefix="/api/v1/admin/jobs",
                description="Background jobs (admins): the outbox and failed jobs.")
blp.before_request(authenticate)


class OutboxCountsOut(ma.Schema):
    pending = fields.Integer(metadata={"description": "committed, not yet on a queue (Redis down?)"})
    relayed = fields.Integer(metadata={"description": "on a queue, not started"})
    running = fields.Integer(metadata={"description": "started, no error so far"})
    retrying = fields.Integer(metadata={"description": "an attempt failed; it will be tried again"})
    failed = fields.Integer(metadata={"description": "no retry left; retry it by its number"})
    stale = fields.Integer(metadata={"description": "of the relayed, running and retrying: past their "
                                                    "job's lease (the reconciliation relays them again)"})
    unrelayed = fields.Integer(metadata={"description": "deprecated: pending"})
    failing = fields.Integer(metadata={"description": "deprecated: retrying + failed"})


class FailedJobOut(ma.Schema):
    id = fields.String()
    queue = fields.String()
    description = fields.String(allow_none=True)
    ended_at = fields.DateTime(allow_none=True)
    error = fields.String()


class JobsOut(ma.Schema):
    outbox = fields.Nested(OutboxCountsOut)
    failed = fields.List(fields.Nested(FailedJobOut))
    queue = fields.String(metadata={"description": "ok; none (no job queue in this process); unreachable "
                                                   "(Redis does not answer: failed jobs cannot be listed)"})


@blp.route("", methods=["GET"])
@require_role("admin")
@blp.response(200, JobsOut)
def summary():
    """Outbox rows waiting or failing, and failed jobs (empty without a queue here)."""
    return job_admin.summary()


@blp.route("/<job_id>/retry", methods=["POST"], parameters=[{
    "in": "path", "name": "job_id", "required": True,
    "schema": {"type": "string", "pattern": "^" + job_admin.JOB_ID.pattern + "$"}}])
@require_role("admin")
@blp.response(202, JobsOut)
@blp.alt_response(404, schema=None, description="no such failed job or unfinished outbox job")
def retry(job_id):
    """Run a job again: a failed RQ job by its id, or any unfinished outbox
    job by its number (``42`` or ``kefu-outbox-42``); answers the new summary."""
    job_admin.retry(job_id)
    return job_admin.summary()
