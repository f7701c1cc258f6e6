"""The survey API for staff: a ticket's surveys, tickets in recovery, reports.

===========================================  ===========  ==============================================
route                                         role         does
===========================================  ===========  ==============================================
GET  /api/v1/tickets/{number}/surveys         agent        the ticket's surveys and answers
GET  /api/v1/surveys/recovery                 agent        tickets marked for recovery (open by default)
POST /api/v1/surveys/recovery/{id}/close      supervisor   end a recovery by hand, with a note
GET  /api/v1/reports/surveys                  supervisor   CSAT, rating, NPS, response rate by group
GET  /api/v1/reports/surveys/csv              supervisor   the same as CSV
===========================================  ===========  ==============================================

Views are thin: load, call the use case or read (``answers``, ``surveys``,
``reports``), dump. Roles are checked with ``sdk.require_role``.
"""
from __future__ import annotations

from datetime import timezone

import marshmallow as ma
from flask import Response
from flask_smorest import Blueprint
from marshmallow import fields, validate

from service import sdk

from . import surveys
from .answers import end_recovery, recoveries
from .reports import COLUMNS, GROUPS, as_csv, figures

blp = Blueprint("satisfaction_survey_staff", __name__, url_prefix="/api/v1",
                description="Satisfaction surveys (satisfaction_survey): answers, recovery, reports.")
blp.before_request(sdk.authenticate)


def when(**kw):
    return fields.AwareDateTime(default_timezone=timezone.utc, **kw)


class TicketSurveyOut(ma.Schema):
    id = fields.Integer()
    round = fields.Integer(metadata={"description": "0 for the first resolution, 1 after one reopen, ..."})
    status = fields.String(metadata={"description": "scheduled, sent, answered or withdrawn"})
    send_after = when()
    sent_at = when(allow_none=True)
    expires_at = when(allow_none=True)
    reminded_at = when(allow_none=True)
    answered_at = when(allow_none=True)
    solved = fields.Boolean(allow_none=True)
    rating = fields.Integer(allow_none=True)
    effort = fields.Integer(allow_none=True)
    nps = fields.Integer(allow_none=True)
    reasons = fields.List(fields.String(), allow_none=True)
    comment = fields.String(allow_none=True)
    extra = fields.Dict(allow_none=True)
    outcome = fields.String(allow_none=True)
    sla_met = fields.Boolean(allow_none=True)


class SurveyRecoveryArgs(ma.Schema):
    open = fields.Boolean(load_default=True, metadata={"description": "only recoveries not yet ended"})
    department = fields.String(validate=validate.Regexp(r"^[a-z0-9_\-]{1,40}$"), load_default=None)
    limit = fields.Integer(validate=validate.Range(min=1, max=500), load_default=100)


class SurveyRecoveryRow(ma.Schema):
    id = fields.Integer()
    number = fields.Function(lambda r: r.ticket.number)
    subject = fields.Function(lambda r: r.ticket.subject)
    status = fields.Function(lambda r: r.ticket.status, metadata={"description": "the ticket's status"})
    department = fields.Function(lambda r: r.ticket.department.code if r.ticket.department else None,
                                 allow_none=True)
    customer = fields.Function(lambda r: {"id": r.ticket.customer.id, "name": r.ticket.customer.name})
    reason = fields.String(metadata={"description": "not_solved or low_rating"})
    rating = fields.Function(lambda r: r.survey.rating, allow_none=True)
    comment = fields.Function(lambda r: r.survey.comment, allow_none=True)
    followup = fields.Function(lambda r: r.followup.number if r.followup else None, allow_none=True)
    created_at = when()
    recovered_at = when(allow_none=True)
    recovered_by = fields.String(allow_none=True)


class SurveyRecoveryCloseIn(ma.Schema):
    note = fields.String(required=True, validate=sdk.filled(150))


class SurveyReportArgs(ma.Schema):
    by = fields.String(load_default="all", validate=validate.OneOf(GROUPS))
    since = when(load_default=None)
    until = when(load_default=None)


class SurveyReportRow(ma.Schema):
    group = fields.String(allow_none=True)
    sent = fields.Integer()
    answered = fields.Integer()
    response_rate = fields.Float(allow_none=True)
    avg_rating = fields.Float(allow_none=True)
    csat = fields.Float(allow_none=True, metadata={"description": "share of answers rating 4 or 5"})
    solved_rate = fields.Float(allow_none=True)
    nps = fields.Float(allow_none=True, metadata={"description": "% promoters (9-10) - % detractors (0-6)"})


@blp.route("/tickets/<number>/surveys", methods=["GET"])
@sdk.require_role("agent")
@blp.response(200, TicketSurveyOut(many=True))
def surveys_of_ticket(number):
    """The ticket's surveys, one per resolution, with their answers."""
    return surveys.surveys_of_ticket(number)


@blp.route("/surveys/recovery", methods=["GET"])
@sdk.require_role("agent")
@blp.arguments(SurveyRecoveryArgs(), location="query")
@blp.response(200, SurveyRecoveryRow(many=True))
def recovery_list(args):
    """Tickets marked for recovery after a bad survey answer, newest first."""
    return recoveries(args["open"], args["limit"], args["department"])


@blp.route("/surveys/recovery/<int(max=2147483647):recovery_id>/close", methods=["POST"])
@sdk.require_role("supervisor")
@blp.arguments(SurveyRecoveryCloseIn())
@blp.response(200, SurveyRecoveryRow)
def close_recovery(body, recovery_id):
    """End a recovery by hand (the customer was won back some other way)."""
    return end_recovery(recovery_id, sdk.current_staff(), body["note"])


@blp.route("/reports/surveys", methods=["GET"])
@sdk.require_role("supervisor")
@blp.arguments(SurveyReportArgs(), location="query")
@blp.response(200, SurveyReportRow(many=True))
def report(args):
    """CSAT (share of 4-5), average rating, NPS and response rate of surveys
    delivered in [since, until), grouped by all, agent, department, category,
    tier, sla (met/missed) or week."""
    return figures(args["by"], args["since"], args["until"])


@blp.route("/reports/surveys/csv", methods=["GET"])
@sdk.require_role("supervisor")
@blp.arguments(SurveyReportArgs(), location="query")
@blp.response(200, description=f"CSV with the columns {', '.join(COLUMNS)}",
              example="group,sent,answered,response_rate,avg_rating,csat,solved_rate,nps\r\n",
              content_type="text/csv")
def report_csv(args):
    """The survey report as CSV (the same figures as ``/reports/surveys``)."""
    body = as_csv(figures(args["by"], args["since"], args["until"]))
    return Response(body, mimetype="text/csv",
                    headers={"Content-Disposition": f'attachment; filename="survey-report-{args["by"]}.csv"'})
