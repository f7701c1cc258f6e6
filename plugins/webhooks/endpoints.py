"""Use cases of the webhooks admin API: register, change, delete endpoints,
rotate their secret, read the delivery log, redeliver. Each write is one
unit of work (``sdk.UnitOfWork``)."""
from __future__ import annotations

import base64
import binascii
import secrets

from sqlalchemy import select

from service import sdk

from .events import JOB, forget_subscribers
from .models import WebhookAttempt, WebhookDelivery, WebhookEndpoint


def endpoint(endpoint_id: int) -> WebhookEndpoint:
    """Endpoint ``endpoint_id``; ``NotFound`` (404)."""
    row = sdk.db.session.get(WebhookEndpoint, endpoint_id)
    if row is None:
        raise sdk.NotFound(f"no webhook endpoint {endpoint_id}")
    return row


def all_endpoints() -> list[WebhookEndpoint]:
    """Every endpoint, oldest first."""
    return sdk.db.session.scalars(select(WebhookEndpoint).order_by(WebhookEndpoint.id)).all()


def _unique(events: list[str]) -> list[str]:
    return list(dict.fromkeys(events))  # keeps the order given


def register(data: dict) -> WebhookEndpoint:
    """A new endpoint (``url``, ``events``, ``description``, ``active``) with a
    fresh signing secret (on the returned row: show it this once)."""
    with sdk.UnitOfWork() as uow:
        row = WebhookEndpoint(url=data["url"], events=_unique(data["events"]), description=data["description"],
                              active=data["active"], secret=secrets.token_urlsafe(32), created_at=sdk.utcnow())
        sdk.db.session.add(row)
        uow.commit()
    forget_subscribers()
    return row


def change(endpoint_id: int, data: dict) -> WebhookEndpoint:
    """Change the given fields (``url``, ``events``, ``description``, ``active``)."""
    with sdk.UnitOfWork() as uow:
        row = endpoint(endpoint_id)
        if "events" in data:
            data = {**data, "events": _unique(data["events"])}
        row.url = data.get("url", row.url)
        row.events = data.get("events", row.events)
        row.description = data.get("description", row.description)
        row.active = data.get("active", row.active)
        uow.commit()
    forget_subscribers()
    return row


def delete(endpoint_id: int) -> None:
    """Delete an endpoint with its delivery log."""
    with sdk.UnitOfWork() as uow:
        sdk.db.session.delete(endpoint(endpoint_id))
        uow.commit()
    forget_subscribers()


def rotate_secret(endpoint_id: int) -> WebhookEndpoint:
    """Give the endpoint a new signing secret (on the returned row: show it this once)."""
    with sdk.UnitOfWork() as uow:
        row = endpoint(endpoint_id)
        row.secret = secrets.token_urlsafe(32)
        uow.commit()
    return row


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
        raise sdk.ValidationFailed("malformed cursor", {"cursor": ["not a cursor from a previous page"]}) from None


def _attach_attempts(deliveries: list[WebhookDelivery]) -> None:
    """Give each delivery its ``attempt_log`` with one query for the page."""
    by_id = {d.id: d for d in deliveries}
    for d in deliveries:
        d.attempt_log = []
    if by_id:
        rows = sdk.db.session.scalars(select(WebhookAttempt).where(WebhookAttempt.delivery_id.in_(by_id))
                                  .order_by(WebhookAttempt.id))
        for attempt in rows:
            by_id[attempt.delivery_id].attempt_log.append(attempt)




def delivery_log(endpoint_id: int, limit: int, status: str | None, cursor: str | None):
    """``(deliveries, next cursor)``: the endpoint's deliveries, newest first,
    each with its ``attempt_log``; ``cursor`` from a previous page."""
    endpoint(endpoint_id)
    stmt = select(WebhookDelivery).where(WebhookDelivery.endpoint_id == endpoint_id)
    if status:
        stmt = stmt.where(WebhookDelivery.status == status)
    if cursor:
        stmt = stmt.where(WebhookDelivery.id < _decode_cursor(cursor))
    rows = sdk.db.session.scalars(stmt.order_by(WebhookDelivery.id.desc()).limit(limit + 1)).all()
    next_cursor = _encode_cursor(rows[limit - 1].id) if len(rows) > limit else None
    rows = rows[:limit]
    _attach_attempts(rows)
    return rows, next_cursor


def redeliver(delivery_id: int) -> WebhookDelivery:
    """Queue a failed delivery again (a fresh round: the first send's effect
    key must not make this one a no-op); 409 unless it failed or when its
    endpoint is disabled."""
    with sdk.UnitOfWork() as uow:
        delivery = sdk.db.session.get(WebhookDelivery, delivery_id)
        if delivery is None:
            raise sdk.NotFound(f"no webhook delivery {delivery_id}")
        if delivery.status != "failed":
            raise sdk.Conflict(f"delivery {delivery_id} is {delivery.status}; only failed deliveries are "
                               "redelivered", {"status": [f"is {delivery.status}, not failed"]})
        if not endpoint(delivery.endpoint_id).active:
            raise sdk.Conflict(f"endpoint {delivery.endpoint_id} is disabled; enable it first",
                               {"active": ["the endpoint is disabled"]})
        delivery.status = "pending"
        sdk.enqueue(JOB, delivery_id=delivery.id, round_key=secrets.token_hex(8))
        uow.commit()
    _attach_attempts([delivery])
    return delivery
