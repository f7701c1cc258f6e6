"""The customer's survey API (no login: the signed survey token is the key).

==============================================  =====================================================
route                                           does
==============================================  =====================================================
GET  /api/v1/public/surveys/{survey_token}      the questions, in the customer's language; records nothing
POST /api/v1/public/surveys/{survey_token}      answer once: solved, rating, ... (closes the loop)
==============================================  =====================================================

404 for a forged or unknown token, 409 once answered, 410 when expired or
withdrawn, 422 naming the field for a bad answer. Views are thin: the
schema loads, ``answers.answer_survey`` (or ``tokens.survey_for_token``)
does the work, the schema dumps. Rate-limited per client like the core's
customer routes (``sdk.public_rate_limit``).
"""
from __future__ import annotations

import marshmallow as ma
from flask_smorest import Blueprint
from marshmallow import fields, validate

from service import sdk

from .answers import answer_survey
from .questions import REASON_CODES, localized
from .settings import survey_settings
from .tokens import survey_for_token

blp = Blueprint("satisfaction_survey_public", __name__, url_prefix="/api/v1/public/surveys",
                description="The customer's satisfaction survey after a resolution (satisfaction_survey).")
sdk.public_rate_limit(blp)
NO_AUTH = {"security": []}


class SurveyAnswerIn(ma.Schema):
    solved = fields.Boolean(required=True, truthy={True}, falsy={False},
                            metadata={"description": "is the problem solved"})
    rating = fields.Integer(required=True, strict=True, validate=validate.Range(min=1, max=5),
                            metadata={"description": "satisfaction, 1 (very dissatisfied) to 5 (very satisfied)"})
    effort = fields.Integer(strict=True, validate=validate.Range(min=1, max=7), allow_none=True, load_default=None,
                            metadata={"description": "customer effort 1-7 (only when asked)"})
    nps = fields.Integer(strict=True, validate=validate.Range(min=0, max=10), allow_none=True, load_default=None,
                         metadata={"description": "likelihood to recommend 0-10 (only when asked)"})
    reasons = fields.List(fields.String(validate=validate.OneOf(REASON_CODES)), load_default=list,
                          validate=validate.Length(max=len(REASON_CODES)),
                          metadata={"description": "what went wrong (only with a rating of 2 or less)"})
    comment = fields.String(validate=validate.Length(max=2000), allow_none=True, load_default=None)
    extra = fields.Dict(keys=fields.String(validate=validate.Length(max=40)), load_default=dict,
                        metadata={"description": "answers to the extra questions, by key"})


class SurveyOptionOut(ma.Schema):
    code = fields.String()
    label = fields.String()


class SurveyQuestionOut(ma.Schema):
    key = fields.String()
    type = fields.String(metadata={"description": "yes_no, scale, choices, choice or text"})
    label = fields.String()
    required = fields.Boolean()
    extra = fields.Boolean(metadata={"description": "answered under extra.<key>"})
    min = fields.Integer()
    max = fields.Integer()
    min_label = fields.String()
    max_label = fields.String()
    options = fields.List(fields.Nested(SurveyOptionOut))
    max_length = fields.Integer()
    when_rating_at_most = fields.Integer()


class SurveyOut(ma.Schema):
    number = fields.String(metadata={"description": "the ticket's number"})
    subject = fields.String()
    language = fields.String()
    expires_at = fields.AwareDateTime(allow_none=True)
    questions = fields.List(fields.Nested(SurveyQuestionOut))


class SurveyFollowupOut(ma.Schema):
    number = fields.String()
    token = fields.String(allow_none=True, metadata={"description": "tracking token of the follow-up ticket"})


class SurveyAnsweredOut(ma.Schema):
    number = fields.String()
    status = fields.String(metadata={"description": "the ticket's status after the answer"})
    outcome = fields.String(metadata={"description": "reopened, followup, closed or none"})
    followup = fields.Nested(SurveyFollowupOut, allow_none=True)


def survey_view(survey) -> dict:
    """What the customer sees of an open survey."""
    return {"number": survey.ticket.number, "subject": survey.ticket.subject, "language": survey.language,
            "expires_at": survey.expires_at, "questions": localized(survey_settings(), survey.language)}


def answered_view(result) -> dict:
    """What the customer gets back after answering."""
    followup = result["followup"]
    return {"number": result["ticket"].number, "status": result["ticket"].status, "outcome": result["outcome"],
            "followup": {"number": followup.number, "token": result["followup_token"]} if followup else None}


_ERRORS = {404: "forged, altered or unknown link", 409: "already answered (single use)",
           410: "expired, or withdrawn because the ticket was taken up again"}


def _document_errors(func):
    for status, text in _ERRORS.items():
        func = blp.alt_response(status, schema=sdk.ErrorSchema, description=text)(func)
    return func


@blp.route("/<survey_token>", methods=["GET"])
@blp.response(200, SurveyOut)
@_document_errors
@blp.doc(**NO_AUTH)
def show_survey(survey_token):
    """The survey this token opens: its questions in the customer's language.
    Opening it records nothing (mail scanners follow links)."""
    return survey_view(survey_for_token(survey_token))


@blp.route("/<survey_token>", methods=["POST"])
@blp.arguments(SurveyAnswerIn())
@blp.response(200, SurveyAnsweredOut)
@_document_errors
@blp.doc(**NO_AUTH)
def answer(data, survey_token):
    """Answer the survey, once. "Not solved" or a rating of 2 or less reopens the
    ticket (or opens a follow-up); "solved" with 4 or more closes it."""
    return answered_view(answer_survey(survey_token, data))
