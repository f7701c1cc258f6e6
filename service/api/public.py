"""Customer endpoints: no staff login, a private signed token per ticket, rate-limited.

A tracking token opens exactly one ticket and shows only what the customer
may see: status, public messages, the resolution. Never internal notes,
staff e-mail, other tickets or customer data beyond the ticket's own.
"""
from __future__ import annotations

import re

import marshmallow as ma
from flask import current_app, request
from flask_babel import force_locale
from flask_smorest import Blueprint
from marshmallow import fields, validate

from service.api.schemas import CODE, LANGUAGE, RemedyIn, when
from service.api.text import filled
from service.domain.actors import Actor
from service.domain.errors import ValidationFailed
from service.domain.workflow import STEP_OF_STATUS
from service.extensions import limiter
from service.languages import customer_language
from service.links import tracking_url
from service.models import KINDS
from service.reads.panels import tracking_panels
from service.reads.timeline import customer_timeline, reply_by
from service.usecases import messages, opening, tickets, tracking

blp = Blueprint("public", __name__, url_prefix="/api/v1/public",
                description="The customer's side: file a complaint, follow it, answer the resolution.")
limiter.limit(lambda: current_app.config["PUBLIC_RATE_LIMIT"])(blp)
NO_AUTH = {"security": []}


class PublicTicketIn(ma.Schema):
    name = fields.String(required=True, validate=filled(200))
    email = fields.Email(validate=validate.Length(max=254), load_default=None)
    phone = fields.String(validate=validate.Regexp(r"^\+?[0-9 ()\-]{5,30}$", error="not a phone number"),
                          load_default=None)
    language = fields.String(validate=LANGUAGE, load_default=None, metadata={
        "description": "the language of the customer's mail and pages (en or zh_CN); when left out, the "
                       "request's Accept-Language, else the script of the name, subject and description "
                       "(Chinese characters: zh_CN), else the server's DEFAULT_LANGUAGE"})
    kind = fields.String(validate=validate.OneOf(KINDS), load_default="complaint")
    category = fields.String(validate=CODE, load_default="other")
    subject = fields.String(required=True, validate=filled(200))
    description = fields.String(required=True, validate=filled(20000))
    remedy = fields.Nested(RemedyIn, load_default=None)

    # Checked with the fields, not after them: a form's every error comes in
    # one answer. Only when neither was given at all; a malformed one has its own error.
    @ma.validates_schema(pass_original=True, skip_on_field_errors=False)
    def _contact(self, data, original_data, **kwargs):
        given = original_data if isinstance(original_data, dict) else {}
        if not any(str(given.get(key) or "").strip() for key in ("email", "phone")):
            raise ma.ValidationError("give an e-mail address or a phone number", "email")


REPLY_BY = {"description": "when the team will have answered at the latest (the SLA's first response), "
                           "while the case waits for it; else null"}


class FiledOut(ma.Schema):
    number = fields.String()
    token = fields.String(metadata={"description": "private tracking token; keep it secret"})
    tracking_url = fields.String()
    status = fields.String()
    reply_by = when(allow_none=True, metadata=REPLY_BY)


class PublicMessageOut(ma.Schema):
    author = fields.String(metadata={"description": "customer or staff"})
    body = fields.String()
    created_at = when()


class PublicPanelOut(ma.Schema):
    key = fields.String()
    title = fields.String()
    text = fields.String(allow_none=True)
    url = fields.String(allow_none=True)
    url_label = fields.String(allow_none=True)


class TimelineEntryOut(ma.Schema):
    kind = fields.String(metadata={"description": "message, resolution (one proposed before the current one) "
                                                  "or rejection (the customer's reason for not accepting one)"})
    author = fields.String(metadata={"description": "customer or staff"})
    body = fields.String()
    at = when()
    followup = fields.String(allow_none=True, metadata={"description": "the case opened by a late rejection"})


class PublicTicketOut(ma.Schema):
    number = fields.String()
    kind = fields.String()
    category = fields.String()
    subject = fields.String()
    status = fields.String()
    step = fields.String()
    resolution = fields.String(allow_none=True)
    reply_by = when(allow_none=True, metadata=REPLY_BY)
    can_answer_resolution = fields.Boolean()
    can_reply = fields.Boolean()
    created_at = when()
    resolved_at = when(allow_none=True)
    closed_at = when(allow_none=True)
    messages = fields.List(fields.Nested(PublicMessageOut))
    timeline = fields.List(fields.Nested(TimelineEntryOut), metadata={
        "description": "messages, earlier resolutions and the customer's reasons for rejecting, oldest first"})
    panels = fields.List(fields.Nested(PublicPanelOut))


class PublicMessageIn(ma.Schema):
    body = fields.String(required=True, validate=filled(20000))


class ResolutionAnswerIn(ma.Schema):
    accepted = fields.Boolean(required=True, truthy={True}, falsy={False})
    reason = fields.String(validate=validate.Length(max=2000), load_default=None)


class FollowupOut(ma.Schema):
    number = fields.String()
    token = fields.String()


class ResolutionAnswerOut(ma.Schema):
    number = fields.String()
    status = fields.String()
    followup = fields.Nested(FollowupOut, allow_none=True)


def _panels_in(ticket, language: str | None) -> list[dict]:
    """The plugins' tracking panels in ``language`` (the customer's)."""
    with force_locale(language or current_app.config["DEFAULT_LANGUAGE"]):
        return [p for p in tracking_panels(ticket) if not p["failed"]]


def _public_view(ticket) -> dict:
    timeline = customer_timeline(ticket)
    return {
        "number": ticket.number, "kind": ticket.kind, "category": ticket.category.code,
        "subject": ticket.subject, "status": ticket.status, "step": STEP_OF_STATUS[ticket.status],
        "resolution": ticket.resolution if ticket.status in ("resolved", "closed") else None,
        "reply_by": reply_by(ticket),
        "can_answer_resolution": ticket.status == "resolved",
        "can_reply": ticket.status not in ("closed", "cancelled"),
        "created_at": ticket.created_at, "resolved_at": ticket.resolved_at, "closed_at": ticket.closed_at,
        # The timeline's messages, as the field was before the timeline (one query for both).
        "messages": [{"author": e.author, "body": e.body, "created_at": e.at} for e in timeline if e.kind == "message"],
        "timeline": timeline,
        # A plugin's panel that failed is left out here (the web page shows a placeholder).
        # Panels speak the page's language; this answer's is the customer's.
        "panels": _panels_in(ticket, ticket.customer.language),
    }


IDEMPOTENCY_KEY = re.compile(r"[A-Za-z0-9_.:-]{8,80}")


def _idempotency_key() -> str | None:
    key = request.headers.get("Idempotency-Key")
    if key is None:
        return None
    if not IDEMPOTENCY_KEY.fullmatch(key):
        raise ValidationFailed("not an idempotency key", {
            "Idempotency-Key": ["8 to 80 of A-Z, a-z, 0-9 and _ . : - (a random UUID will do)"]})
    return key


@blp.route("/tickets", methods=["POST"], parameters=[{
    "in": "header", "name": "Idempotency-Key", "required": False,
    "description": "A key of the client's choosing (a random UUID). Sent again with the same contact, "
                   "the request answers the ticket it filed (with a new tracking token) and files nothing: "
                   "a client may retry after a lost answer or a 503 without filing twice.",
    "schema": {"type": "string", "pattern": "^" + IDEMPOTENCY_KEY.pattern + "$"}}])
@blp.arguments(PublicTicketIn())
@blp.response(201, FiledOut)
@blp.doc(**NO_AUTH)
def file_ticket(data):
    """File a complaint or feedback; answers the number and a private tracking token."""
    key = _idempotency_key()
    contact = {k: data.pop(k) for k in ("name", "email", "phone", "language")}
    contact["language"] = customer_language(contact["language"], contact["name"], data["subject"],
                                            data["description"])
    data["contact"] = contact
    ticket, token = opening.open_ticket(data, Actor("customer", name=contact["name"]), channel="web",
                                        request_key=key and f"api:{key}")
    return {"number": ticket.number, "token": token, "status": ticket.status,
            "tracking_url": tracking_url(token), "reply_by": reply_by(ticket)}


@blp.route("/tickets/<token>", methods=["GET"])
@blp.response(200, PublicTicketOut)
@blp.doc(**NO_AUTH)
def show_ticket(token):
    """The ticket this token opens: status as a step, public messages, resolution."""
    return _public_view(tracking.ticket_for_token(token))


@blp.route("/tickets/<token>/messages", methods=["POST"])
@blp.arguments(PublicMessageIn())
@blp.response(201, PublicMessageOut)
@blp.doc(**NO_AUTH)
def reply(data, token):
    """Write to the service team; a ticket waiting on the customer goes back to handling."""
    ticket = tracking.ticket_for_token(token)
    message = messages.add_message(ticket, data["body"], Actor.customer(ticket.customer))
    return {"author": "customer", "body": message.body, "created_at": message.created_at}


@blp.route("/tickets/<token>/resolution", methods=["POST"])
@blp.arguments(ResolutionAnswerIn())
@blp.response(200, ResolutionAnswerOut)
@blp.doc(**NO_AUTH)
def answer(data, token):
    """Accept the resolution (the ticket closes) or reject it with a reason (handling resumes)."""
    ticket = tracking.ticket_for_token(token)
    followup = tickets.answer_resolution(ticket, data["accepted"], data["reason"], Actor.customer(ticket.customer))
    return {"number": ticket.number, "status": ticket.status,
            "followup": {"number": followup.number, "token": followup.new_token} if followup else None}
