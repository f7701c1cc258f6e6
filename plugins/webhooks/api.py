"""The webhooks admin API under /api/v1/admin/webhooks (admins only).

Register endpoints (URL, events), read and edit them, rotate their secret,
read the delivery log with every attempt, and redeliver a failed delivery.
A secret is answered only when it is made (create, rotate). Views are thin:
load, call the use case in ``endpoints``, dump.
"""
from __future__ import annotations

import re

import marshmallow as ma
from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import fields, validate

from service import sdk

from . import endpoints, targets

blp = Blueprint("webhooks", __name__, url_prefix="/api/v1/admin/webhooks",
                description="Webhooks: signed HTTP callbacks for ticket events (admin).")
blp.before_request(sdk.authenticate)

STATUSES = ("pending", "delivered", "failed")


def _url_field(**kw):
    return fields.URL(schemes={"http", "https"}, require_tld=False, validate=validate.Length(max=2000),
                      error_messages={"invalid": "must be an http:// or https:// URL"},
                      metadata={"description": "where events are POSTed"}, **kw)


EVENT_NAME = re.compile(r"[a-z_]+\.[a-z_]+")  # noun.verb, as kefu names its events
EVENT_MAX = 60


def _event_name(value: str) -> None:
    if not EVENT_NAME.fullmatch(value):
        raise ma.ValidationError("must be an event name such as ticket.created (noun.verb, a-z and _)")


def _events_field(**kw):
    event = fields.String(validate=[validate.Length(max=EVENT_MAX), _event_name],
                          metadata={"pattern": EVENT_NAME.pattern})
    return fields.List(event, validate=validate.Length(min=1, max=50, error="give 1 to 50 events"),
                       metadata={"description": "event names to receive; the core's are " + ", ".join(sdk.CORE_EVENTS)
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


# --------------------------------------------------------------------------- routes

@blp.route("")
class Endpoints(MethodView):
    @sdk.require_role("admin")
    @blp.response(200, EndpointOut(many=True))
    def get(self):
        """Every registered endpoint, oldest first (without secrets)."""
        return endpoints.all_endpoints()

    @sdk.require_role("admin")
    @blp.arguments(EndpointCreate())
    @blp.response(201, EndpointWithSecret)
    def post(self, data):
        """Register an endpoint for some events; the answer carries its signing
        secret, shown only this once (rotate it if lost)."""
        return endpoints.register(data)  # the one answer with the secret (EndpointWithSecret)


@blp.route("/<int(max=2147483647):endpoint_id>")
class Endpoint(MethodView):
    @sdk.require_role("admin")
    @blp.response(200, EndpointOut)
    def get(self, endpoint_id):
        """One endpoint (without its secret)."""
        return endpoints.endpoint(endpoint_id)

    @sdk.require_role("admin")
    @blp.arguments(EndpointPatch())
    @blp.response(200, EndpointOut)
    def patch(self, data, endpoint_id):
        """Change an endpoint's URL, events, description or ``active``. Events
        count from the next one; deliveries already queued go to the new URL."""
        return endpoints.change(endpoint_id, data)

    @sdk.require_role("admin")
    @blp.response(204)
    def delete(self, endpoint_id):
        """Delete an endpoint with its delivery log; queued deliveries are dropped."""
        endpoints.delete(endpoint_id)


@blp.route("/<int(max=2147483647):endpoint_id>/rotate-secret", methods=["POST"])
@sdk.require_role("admin")
@blp.response(200, EndpointWithSecret)
def rotate_secret(endpoint_id):
    """Replace the endpoint's signing secret; the answer carries the new one,
    shown only this once. Every send from now on, retries included, uses it."""
    return endpoints.rotate_secret(endpoint_id)  # the one answer with the secret (EndpointWithSecret)


@blp.route("/<int(max=2147483647):endpoint_id>/deliveries", methods=["GET"])
@sdk.require_role("admin")
@blp.arguments(DeliveryArgs(), location="query")
@blp.response(200, DeliveryPage)
def deliveries(args, endpoint_id):
    """The endpoint's delivery log, newest first, each with every attempt
    (status code or error, duration); follow ``next_cursor`` for older ones."""
    rows, next_cursor = endpoints.delivery_log(endpoint_id, args["limit"], args.get("status"), args.get("cursor"))
    return {"items": rows, "next_cursor": next_cursor}


@blp.route("/deliveries/<int(max=2147483647):delivery_id>/redeliver", methods=["POST"])
@sdk.require_role("admin")
@blp.response(202, DeliveryOut)
def redeliver(delivery_id):
    """Send a failed delivery again (same event id, so receivers can tell a
    repeat); 409 unless it failed or when its endpoint is disabled."""
    return endpoints.redeliver(delivery_id)
