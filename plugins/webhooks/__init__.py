"""Signed webhooks (builtin plugin): ticket events POSTed to the URLs admins register.

Written only through kefu's public hooks, as an outside integrator would:

* the notification hooks turn each event into one ``WebhookDelivery`` row
  per subscribed, active endpoint and queue the ``webhooks.deliver`` job
  (``plugins.webhooks.deliver``); a request never makes an HTTP call;
* other plugins publish their own events (``sla.breached``, ...) with
  ``publish``;
* ``register_blueprints`` adds the admin API (``plugins.webhooks.api``),
  ``register_jobs`` the delivery job.

Receivers check the ``X-Kefu-Signature`` header with ``verify`` (a reference
implementation; docs/webhooks.md has the contract).
"""
from __future__ import annotations

import functools
import hashlib
import hmac
import json
import re
import time
import uuid

from flask import current_app
from sqlalchemy import select

from service import hookimpl
from service.extensions import db
from service.jobs.registry import enqueue, registry
from service.models.base import utcnow

from .models import WebhookDelivery, WebhookEndpoint

# The events the core's notification hooks publish, in hook order. Plugins
# add their own names ("sla.breached", "survey.answered") through ``publish``.
CORE_EVENTS = ("ticket.created", "ticket.transitioned", "ticket.updated", "message.added",
               "resolution.answered", "sla.warning", "sla.breached")
# "noun.verb". Use fullmatch: match() with $ also accepts a trailing newline.
EVENT_NAME = re.compile(r"^[a-z_]+\.[a-z_]+$")
EVENT_MAX = 60  # WebhookDelivery.event
JOB = "webhooks.deliver"
SIGNATURE_PREFIX = "sha256="


# --------------------------------------------------------------------------- signing

def sign(secret: str, timestamp: int | str, body: bytes) -> str:
    """The ``X-Kefu-Signature`` value for ``body`` sent at ``timestamp``:
    ``sha256=`` and the hex HMAC-SHA256, keyed by ``secret``, of
    ``f"{timestamp}.".encode() + body``."""
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return SIGNATURE_PREFIX + mac.hexdigest()


def verify(secret: str, timestamp, body, signature, tolerance: int = 300, now: float | None = None) -> bool:
    """A receiver's check of one delivery; True only when it is authentic and fresh.

    ``timestamp`` and ``signature`` are the ``X-Kefu-Timestamp`` and
    ``X-Kefu-Signature`` headers, ``body`` the raw request body (bytes; a str
    is taken as UTF-8). False when the signature does not match, or the
    timestamp is not a whole number of seconds or lies more than
    ``tolerance`` seconds from ``now`` (default: the current time) in either
    direction, which bounds replays; within it, receivers drop repeats by
    ``X-Kefu-Delivery``. Never raises for malformed input.
    """
    try:
        sent = int(str(timestamp).strip())
    except (TypeError, ValueError):
        return False
    current = time.time() if now is None else now
    if abs(current - sent) > tolerance:
        return False
    if isinstance(body, str):
        body = body.encode()
    if not isinstance(body, (bytes, bytearray)) or not isinstance(signature, str) or not isinstance(secret, str):
        return False
    expected = sign(secret, sent, bytes(body)).encode()
    # Constant-time: a timing difference would leak the signature byte by
    # byte. Bytes, because compare_digest raises for non-ASCII text.
    return hmac.compare_digest(expected, signature.strip().encode("utf-8", "replace"))


# --------------------------------------------------------------------------- publishing

def _iso(value):
    return value.isoformat() if value is not None else None


def ticket_summary(ticket) -> dict:
    """What every payload says about ``ticket``: its state and codes, never the
    customer's contact data (only ``customer_id``). Reads loaded attributes only."""
    return {
        "number": ticket.number, "status": ticket.status, "kind": ticket.kind,
        "priority": ticket.priority, "channel": ticket.channel,
        "category": ticket.category.code if ticket.category is not None else None,
        "department": ticket.department.code if ticket.department is not None else None,
        "subject": ticket.subject, "customer_id": ticket.customer_id,
        "created_at": _iso(ticket.created_at), "updated_at": _iso(ticket.updated_at),
        "first_response_due": _iso(ticket.first_response_due), "resolution_due": _iso(ticket.resolution_due),
        "version": ticket.version,
    }


@functools.cache
def _subscribers_stmt():
    # Built once: a reused statement keeps its compiled cache key (hot path).
    return select(WebhookEndpoint.id, WebhookEndpoint.events).where(WebhookEndpoint.active.is_(True))


def _subscribers(event: str) -> list[int]:
    # Every ticket event asks this, so the active endpoints are remembered per
    # process for WEBHOOK_CACHE_SECONDS (default 5): an endpoint registered,
    # changed or disabled counts at once in the process that changed it and
    # within that many seconds in the others. Filtering the JSON list in
    # Python keeps the query the same on SQLite and PostgreSQL.
    cache = current_app.extensions.setdefault("kefu_webhook_subscribers", {})
    ttl = current_app.config.get("WEBHOOK_CACHE_SECONDS", 5)
    hit = cache.get("all")
    if hit is None or hit[0] <= time.monotonic():
        rows = [(row.id, tuple(row.events or ())) for row in db.session.execute(_subscribers_stmt())]
        hit = (time.monotonic() + ttl, rows)
        if ttl:
            cache["all"] = hit
    return [endpoint_id for endpoint_id, events in hit[1] if event in events]


def forget_subscribers() -> None:
    """Drop this process's cache of active endpoints (after an admin change)."""
    current_app.extensions.get("kefu_webhook_subscribers", {}).clear()


def publish(event: str, ticket, data: dict) -> int:
    """Queue ``event`` about ``ticket`` for every active endpoint subscribed to it.

    For plugins: call it inside your own transaction or notification hook; it
    only writes ``WebhookDelivery`` rows and ``webhooks.deliver`` jobs into the
    current session, and **the caller commits** (a notification hook's jobs
    are committed by the core after the notifications). Nothing is sent
    before that commit, and a rolled-back change sends nothing.

    ``event``: a ``noun.verb`` name (``^[a-z_]+\\.[a-z_]+$``, at most 60
    characters), e.g. ``sla.breached``. ``ticket``: a committed ``Ticket``.
    ``data``: the event's own JSON-able details (the payload's ``data``); never
    put customer contact data in it. Returns the number of deliveries queued:
    0 when nobody subscribed (then it costs one small query) or when the
    ``webhooks`` plugin is disabled (then it costs nothing). Raises
    ``ValueError`` for a malformed event name or data that is not JSON.
    """
    if not isinstance(event, str) or len(event) > EVENT_MAX or not EVENT_NAME.fullmatch(event):
        raise ValueError(f"webhook event {event!r} must be a noun.verb name such as 'sla.breached'")
    if not isinstance(data, dict):
        raise ValueError("webhook event data must be a dict")
    try:
        # Checked even when nobody listens, so that a plugin's mistake shows
        # in its first test, not on the day someone subscribes.
        json.dumps(data, allow_nan=False)  # NaN is not JSON: PostgreSQL would refuse the row
    except (TypeError, ValueError) as exc:
        raise ValueError(f"webhook event {event}: data must be JSON: {exc}") from None
    if JOB not in registry():
        # The plugin is disabled (its job is not declared), but another
        # plugin imported this module to publish: nobody is listening.
        return 0
    endpoints = _subscribers(event)
    if not endpoints:
        return 0
    payload = {"id": str(uuid.uuid4()), "event": event, "occurred_at": utcnow().isoformat(),
               "ticket": ticket_summary(ticket), "data": data}
    rows = [WebhookDelivery(endpoint_id=endpoint_id, event=event, event_id=payload["id"], payload=payload,
                            status="pending", attempts=0, created_at=utcnow())
            for endpoint_id in endpoints]
    db.session.add_all(rows)
    db.session.flush()  # the ids the jobs are given
    for row in rows:
        enqueue(JOB, delivery_id=row.id)
    return len(rows)


def _publish_now(event: str, ticket, data: dict) -> None:
    # The core's events are committed here rather than left to the core's
    # end-of-notifications commit: a later plugin that fails makes the core
    # roll back the session, and these deliveries would vanish with it.
    if publish(event, ticket, data):
        db.session.commit()


# --------------------------------------------------------------------------- hooks

@hookimpl
def ticket_created(ticket):
    """Publish ``ticket.created``."""
    _publish_now("ticket.created", ticket, {})


@hookimpl
def ticket_transitioned(ticket, action, from_status, to_status):
    """Publish ``ticket.transitioned`` with the action and both statuses (not
    the details: reasons and resolutions are free text)."""
    _publish_now("ticket.transitioned", ticket, {"action": action, "from": from_status, "to": to_status})


@hookimpl
def ticket_updated(ticket, changes):
    """Publish ``ticket.updated`` with ``{field: [old, new]}`` (codes, staff ids)."""
    _publish_now("ticket.updated", ticket, {"changes": changes})


@hookimpl
def message_added(ticket, message):
    """Publish ``message.added`` for public messages; internal notes never leave kefu."""
    if message.internal:
        return
    _publish_now("message.added", ticket, {"message": {
        "id": message.id, "author_type": message.author_type, "body": message.body,
        "created_at": _iso(message.created_at)}})


@hookimpl
def resolution_answered(ticket, accepted, reason, followup):
    """Publish ``resolution.answered``: accepted or not, the customer's reason,
    and the follow-up ticket's number for a late rejection."""
    _publish_now("resolution.answered", ticket, {
        "accepted": bool(accepted), "reason": reason, "followup": followup.number if followup else None})


def _publish_sla(event: str, ticket, target, due, step) -> None:
    _publish_now(event, ticket, {"target": target, "due": _iso(due), "step": step})


@hookimpl
def sla_warning(ticket, target, due, step):
    """Publish ``sla.warning``: the target (first_response or resolution), its
    due time and the escalation step, as an SLA plugin reported it."""
    _publish_sla("sla.warning", ticket, target, due, step)


@hookimpl
def sla_breached(ticket, target, due, step):
    """Publish ``sla.breached`` (same ``data`` as ``sla.warning``)."""
    _publish_sla("sla.breached", ticket, target, due, step)


@hookimpl
def register_jobs():
    """The delivery job; retries and their intervals come from the settings."""
    return [{"name": JOB, "func": "plugins.webhooks.deliver:deliver", "queue": "webhooks", "interval": None}]


@hookimpl
def register_blueprints(app):
    """The admin API, registered through kefu's flask-smorest ``Api`` so that it
    appears in the OpenAPI document (so returns nothing to register again)."""
    from .api import blp

    app.extensions["kefu_api"].register_blueprint(blp)
    return []
