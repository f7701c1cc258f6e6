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
    unrelayed = fields.Integer(metadata={"description": "committed, not yet on a queue (Redis down?)"})
    running = fields.Integer(metadata={"description": "on a queue, not finished"})
    failing = fields.Integer(metadata={"description": "not finished, with an error from the last attempt"})


class FailedJobOut(ma.Schema):
    id = fields.String()
    queue = fields.String()
    description = fields.String(allow_none=True)
    ended_at = fields.DateTime(allow_none=True)
    error = fields.String()


class JobsOut(ma.Schema):
    outbox = fields.Nested(OutboxCountsOut)
    failed = fields.List(fields.Nested(FailedJobOut))


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
@blp.alt_response(404, schema=None, description="no such failed job")
def retry(job_id):
    """Put a failed job back on its queue; answers the new summary."""
    job_admin.retry(job_id)
    return job_admin.summary()
