"""The webhooks admin API under /api/v1/admin/webhooks (admins only).

Register endpoints (URL, events), read and edit them, rotate their secret,
read the delivery log with every attempt, and redeliver a failed delivery.
A secret is answered only when it is made (create, rotate).
"""
from __future__ import annotations

import base64
import binascii
import secrets

import marshmallow as ma
from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import fields, validate
from sqlalchemy import select

from service.jobs import registry as jobs
from service.usecases.auth import authenticate, require_role
from service.domain.errors import Conflict, NotFound, ValidationFailed
from service.extensions import db
from service.models.base import utcnow
from service.jobs.outbox import relay_after_commit

from . import CORE_EVENTS, EVENT_MAX, EVENT_NAME, JOB, forget_subscribers, targets
from .models import WebhookAttempt, WebhookDelivery, WebhookEndpoint

blp = Blueprint("webhooks", __name__, url_prefix="/api/v1/admin/webhooks",
                description="Webhooks: signed HTTP callbacks for ticket events (admin).")
blp.before_request(authenticate)

STATUSES = ("pending", "delivered", "failed")


def _url_field(**kw):
    return fields.URL(schemes={"http", "https"}, require_tld=False, validate=validate.Length(max=2000),
                      error_messages={"invalid": "must be an http:// or https:// URL"},
                      metadata={"description": "where events are POSTed"}, **kw)


def _event_name(value: str) -> None:
    if not EVENT_NAME.fullmatch(value):
        raise ma.ValidationError("must be an event name such as ticket.created (noun.verb, a-z and _)")


def _events_field(**kw):
    event = fields.String(validate=[validate.Length(max=EVENT_MAX), _event_name],
                          metadata={"pattern": EVENT_NAME.pattern})
    return fields.List(event, validate=validate.Length(min=1, max=50, error="give 1 to 50 events"),
                       metadata={"description": "event names to receive; the core's are " + ", ".join(CORE_EVENTS)
                                 + "; plugins add theirs (e.g. sla.breached)"}, **kw)


class EndpointIn(ma.Schema):
    """Fields of an endpoint, all optional (PATCH); ``EndpointCreate`` requires some."""

    url = _url_field()
    events = _events_field()
    description = fields.String(validate=validate.Length(max=200), allow_none=True)
    active = fields.Boolean()

    @ma.validates("url")
    def _reachable(self, value, **kwargs):
        # Not this machine or its network (see targets): a 422 naming url.
        try:
            targets.check(value, unresolved_ok=True)
        except targets.TargetRefused as exc:
            raise ma.ValidationError(f"refused: {exc}") from None


class EndpointCreate(EndpointIn):
    url = _url_field(required=True)
    events = _events_field(required=True)
    description = fields.String(validate=validate.Length(max=200), allow_none=True, load_default=None)
    active = fields.Boolean(load_default=True)


class EndpointPatch(EndpointIn):
    @ma.validates_schema
    def _something(self, data, **kwargs):
        if not data:
            raise ma.ValidationError("send at least one of url, events, description, active", "_schema")


class EndpointOut(ma.Schema):
    id = fields.Integer()
    url = fields.String()
    events = fields.List(fields.String())
    description = fields.String(allow_none=True)
    active = fields.Boolean()
    created_at = fields.AwareDateTime()


class EndpointWithSecret(EndpointOut):
    secret = fields.String(metadata={"description": "the HMAC key; shown only in this answer"})


class AttemptOut(ma.Schema):
    at = fields.AwareDateTime()
    status_code = fields.Integer(allow_none=True)
    error = fields.String(allow_none=True)
    duration_ms = fields.Integer()


class DeliveryOut(ma.Schema):
    id = fields.Integer()
    endpoint_id = fields.Integer()
    event = fields.String()
    event_id = fields.String(metadata={"description": "the X-Kefu-Delivery header"})
    status = fields.String(validate=validate.OneOf(STATUSES))
    attempt_count = fields.Integer(attribute="attempts")
    last_status_code = fields.Integer(allow_none=True)
    last_error = fields.String(allow_none=True)
    created_at = fields.AwareDateTime()
    delivered_at = fields.AwareDateTime(allow_none=True)
    payload = fields.Dict()
    attempts = fields.List(fields.Nested(AttemptOut), attribute="attempt_log",
                           metadata={"description": "every attempt, oldest first"})


class DeliveryPage(ma.Schema):
    items = fields.List(fields.Nested(DeliveryOut))
    next_cursor = fields.String(allow_none=True)


class DeliveryArgs(ma.Schema):
    limit = fields.Integer(validate=validate.Range(min=1, max=100), load_default=25)
    cursor = fields.String(validate=validate.Length(max=100))
    status = fields.String(validate=validate.OneOf(STATUSES))


# --------------------------------------------------------------------------- helpers

def _endpoint(endpoint_id: int) -> WebhookEndpoint:
    endpoint = db.session.get(WebhookEndpoint, endpoint_id)
    if endpoint is None:
        raise NotFound(f"no webhook endpoint {endpoint_id}")
    return endpoint


def _unique(events: list[str]) -> list[str]:
    return list(dict.fromkeys(events))  # keeps the order given


def _encode_cursor(delivery_id: int) -> str:
    return base64.urlsafe_b64encode(f"d{delivery_id}".encode()).decode().rstrip("=")


def _decode_cursor(cursor: str) -> int:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        value = int(raw[1:]) if raw.startswith("d") else -1
        if not 0 <= value < 2**31:  # ids are 32-bit: larger would overflow the query
            raise ValueError
        return value
    except (ValueError, binascii.Error, UnicodeDecodeError):
        raise ValidationFailed("malformed cursor", {"cursor": ["not a cursor from a previous page"]}) from None


def _attach_attempts(deliveries: list[WebhookDelivery]) -> None:
    """Give each delivery its ``attempt_log`` with one query for the page."""
    by_id = {d.id: d for d in deliveries}
    for d in deliveries:
        d.attempt_log = []
    if by_id:
        rows = db.session.scalars(select(WebhookAttempt).where(WebhookAttempt.delivery_id.in_(by_id))
                                  .order_by(WebhookAttempt.id))
        for attempt in rows:
            by_id[attempt.delivery_id].attempt_log.append(attempt)


# --------------------------------------------------------------------------- routes

@blp.route("")
class Endpoints(MethodView):
    @require_role("admin")
    @blp.response(200, EndpointOut(many=True))
    def get(self):
        """Every registered endpoint, oldest first (without secrets)."""
        return db.session.scalars(select(WebhookEndpoint).order_by(WebhookEndpoint.id)).all()

    @require_role("admin")
    @blp.arguments(EndpointCreate)
    @blp.response(201, EndpointWithSecret)
    def post(self, data):
        """Register an endpoint for some events; the answer carries its signing
        secret, shown only this once (rotate it if lost)."""
        endpoint = WebhookEndpoint(url=data["url"], events=_unique(data["events"]),
                                   description=data["description"], active=data["active"],
                                   secret=secrets.token_urlsafe(32), created_at=utcnow())
        db.session.add(endpoint)
        db.session.commit()
        forget_subscribers()
        return endpoint  # the one answer with the secret (EndpointWithSecret)


@blp.route("/<int(max=2147483647):endpoint_id>")
class Endpoint(MethodView):
    @require_role("admin")
    @blp.response(200, EndpointOut)
    def get(self, endpoint_id):
        """One endpoint (without its secret)."""
        return _endpoint(endpoint_id)

    @require_role("admin")
    @blp.arguments(EndpointPatch)
    @blp.response(200, EndpointOut)
    def patch(self, data, endpoint_id):
        """Change an endpoint's URL, events, description or ``active``. Events
        count from the next one; deliveries already queued go to the new URL."""
        endpoint = _endpoint(endpoint_id)
        if "events" in data:
            data["events"] = _unique(data["events"])
        for key, value in data.items():
            setattr(endpoint, key, value)
        db.session.commit()
        forget_subscribers()
        return endpoint

    @require_role("admin")
    @blp.response(204)
    def delete(self, endpoint_id):
        """Delete an endpoint with its delivery log; queued deliveries are dropped."""
        db.session.delete(_endpoint(endpoint_id))
        db.session.commit()
        forget_subscribers()


@blp.route("/<int(max=2147483647):endpoint_id>/rotate-secret", methods=["POST"])
@require_role("admin")
@blp.response(200, EndpointWithSecret)
def rotate_secret(endpoint_id):
    """Replace the endpoint's signing secret; the answer carries the new one,
    shown only this once. Every send from now on, retries included, uses it."""
    endpoint = _endpoint(endpoint_id)
    endpoint.secret = secrets.token_urlsafe(32)
    db.session.commit()
    return endpoint  # the one answer with the secret (EndpointWithSecret)


@blp.route("/<int(max=2147483647):endpoint_id>/deliveries", methods=["GET"])
@require_role("admin")
@blp.arguments(DeliveryArgs, location="query")
@blp.response(200, DeliveryPage)
def deliveries(args, endpoint_id):
    """The endpoint's delivery log, newest first, each with every attempt
    (status code or error, duration); follow ``next_cursor`` for older ones."""
    _endpoint(endpoint_id)
    limit = args["limit"]
    stmt = select(WebhookDelivery).where(WebhookDelivery.endpoint_id == endpoint_id)
    if args.get("status"):
        stmt = stmt.where(WebhookDelivery.status == args["status"])
    if args.get("cursor"):
        stmt = stmt.where(WebhookDelivery.id < _decode_cursor(args["cursor"]))
    rows = db.session.scalars(stmt.order_by(WebhookDelivery.id.desc()).limit(limit + 1)).all()
    next_cursor = _encode_cursor(rows[limit - 1].id) if len(rows) > limit else None
    rows = rows[:limit]
    _attach_attempts(rows)
    return {"items": rows, "next_cursor": next_cursor}


@blp.route("/deliveries/<int(max=2147483647):delivery_id>/redeliver", methods=["POST"])
@require_role("admin")
@blp.response(202, DeliveryOut)
def redeliver(delivery_id):
    """Send a failed delivery again (same event id, so receivers can tell a
    repeat); 409 unless it failed or when its endpoint is disabled."""
    delivery = db.session.get(WebhookDelivery, delivery_id)
    if delivery is None:
        raise NotFound(f"no webhook delivery {delivery_id}")
    if delivery.status != "failed":
        raise Conflict(f"delivery {delivery_id} is {delivery.status}; only failed deliveries are redelivered",
                       {"status": [f"is {delivery.status}, not failed"]})
    if not _endpoint(delivery.endpoint_id).active:
        raise Conflict(f"endpoint {delivery.endpoint_id} is disabled; enable it first",
                       {"active": ["the endpoint is disabled"]})
    delivery.status = "pending"
    # A fresh round: the first send's effect key must not make this one a no-op.
    jobs.enqueue(JOB, delivery_id=delivery.id, round_key=secrets.token_hex(8))
    db.session.commit()
    relay_after_commit(jobs.take_enqueued(db.session))
    _attach_attempts([delivery])
    return delivery
