"""The SLA API (staff): a ticket's clock explained, the policy and its versions,
re-applying the policy in force, and compliance reports.

==========================================  ===========  ==========================================
route                                        role         does
==========================================  ===========  ==========================================
GET    /api/v1/tickets/{number}/sla          agent        policy, targets, due, used, pauses, steps
POST   /api/v1/tickets/{number}/sla/reapply  supervisor   move the ticket to the policy in force
GET    /api/v1/sla/policy                    agent        the policy in force (newest version)
PUT    /api/v1/sla/policy                    admin        store a new version (validated)
GET    /api/v1/reports/sla                   supervisor   met / missed by tier, priority, ... week
==========================================  ===========  ==========================================

Views are thin: load, call the use case (``sla``, ``policy``, ``sla_report``), dump.
"""
from __future__ import annotations

from datetime import timezone

import marshmallow as ma
from flask_smorest import Blueprint
from marshmallow import fields, validate

from service import sdk

from . import policy as policies
from . import sla
from .sla_report import GROUPS, compliance

blp = Blueprint("tier_sla_sla", __name__, url_prefix="/api/v1",
                description="SLA (tier_sla): the clock of a ticket, the policy, compliance reports.")
blp.before_request(sdk.authenticate)

NUMBER = "/tickets/<number>/sla"


class PolicyOut(ma.Schema):
    version = fields.Integer(attribute="id")
    created_at = fields.DateTime()
    created_by = fields.Integer(allow_none=True)
    note = fields.String(allow_none=True)
    data = fields.Dict()


class PolicyIn(ma.Schema):
    data = fields.Dict(required=True, metadata={"description": "targets, kinds, calendars, default_calendar, "
                                                               "tier_calendars, fallback_tier, ladder"})
    note = fields.String(validate=validate.Length(max=200), load_default=None)


class SlaOut(ma.Schema):
    sla = fields.Dict(metadata={"description": "policy, started_at, paused, pauses, business_minutes_used, "
                                               "flagged, steps_done, next_check, targets"})


class ReportArgs(ma.Schema):
    by = fields.String(load_default="tier", validate=validate.OneOf(list(GROUPS)))
    since = fields.AwareDateTime(default_timezone=timezone.utc, load_default=None)
    until = fields.AwareDateTime(default_timezone=timezone.utc, load_default=None)


class ReportRow(ma.Schema):
    group = fields.String(allow_none=True)
    tickets = fields.Integer()
    first_response_met = fields.Integer()
    first_response_missed = fields.Integer()
    resolution_met = fields.Integer()
    resolution_missed = fields.Integer()
    compliance = fields.Float(allow_none=True, metadata={"description": "met / (met + missed), both targets"})


@blp.route(NUMBER, methods=["GET"])
@sdk.require_role("agent")
@blp.response(200, SlaOut)
def explain(number):
    """The ticket's SLA clock: policy version, tier, calendar, targets and due
    times, business minutes used, each pause and why, steps fired."""
    return {"sla": sla.explain(number)}


@blp.route(NUMBER + "/reapply", methods=["POST"])
@sdk.require_role("supervisor")
@blp.response(200, SlaOut)
def reapply(number):
    """Move the ticket to the policy in force (its start, pauses and steps stay)."""
    return {"sla": sla.reapply(number, sdk.current_staff().name)}


@blp.route("/sla/policy", methods=["GET"])
@sdk.require_role("agent")
@blp.response(200, PolicyOut)
def get_policy():
    """The policy in force (the newest version; the defaults until an admin saves one)."""
    return policies.current_committed()


@blp.route("/sla/policy", methods=["PUT"])
@sdk.require_role("admin")
@blp.arguments(PolicyIn())
@blp.response(201, PolicyOut)
def put_policy(body):
    """Store a new policy version; new tickets start under it, open ones keep theirs."""
    return policies.publish(body["data"], sdk.current_staff().id, body.get("note"))


@blp.route("/reports/sla", methods=["GET"])
@sdk.require_role("supervisor")
@blp.arguments(ReportArgs(), location="query")
@blp.response(200, ReportRow(many=True))
def report(args):
    """SLA compliance of tickets opened in [since, until): targets met and missed,
    grouped by tier, priority, department, agent (assignee) or ISO week."""
    return compliance(args["by"], args["since"], args["until"], sdk.utcnow())
