"""Turning kefu's events into deliveries: one row per subscribed, active
endpoint, and the ``webhooks.deliver`` job for each.

Called from the ``event_published`` notification, after the change that
made the event committed, in a unit of work of its own: the deliveries
commit together, and a request never makes an HTTP call.
"""
from __future__ import annotations

import functools
import json
import time
import uuid

from flask import current_app
from sqlalchemy import select

from service import sdk

from .models import WebhookDelivery, WebhookEndpoint
from .settings import settings

JOB = "webhooks.deliver"


def _iso(value):
    return value.isoformat() if value is not None else None


def ticket_summary(ticket) -> dict | None:
    """What every payload says about ``ticket``: its state and codes, never the
    customer's contact data (only ``customer_id``). Reads loaded attributes only.
    None for an event about no ticket (``customer.health_changed``)."""
    if ticket is None:
        return None
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


def subscribers(event: str) -> list[int]:
    """The ids of the active endpoints subscribed to ``event``.

    Every event asks this, so the active endpoints are remembered per
    process for ``WEBHOOK_CACHE_SECONDS`` (default 5): an endpoint
    registered, changed or disabled counts at once in the process that
    changed it and within that many seconds in the others. Filtering the
    JSON list in Python keeps the query the same on SQLite and PostgreSQL.
    """
    cache = current_app.extensions.setdefault("kefu_webhook_subscribers", {})
    hit = cache.get("all")
    if hit is None or hit[0] <= time.monotonic():
        ttl = settings()["WEBHOOK_CACHE_SECONDS"]
        rows = [(row.id, tuple(row.events or ())) for row in sdk.db.session.execute(_subscribers_stmt())]
        hit = (time.monotonic() + ttl, rows)
        if ttl:
            cache["all"] = hit
    return [endpoint_id for endpoint_id, events in hit[1] if event in events]


def forget_subscribers() -> None:
    """Drop this process's cache of active endpoints (after an admin change)."""
    current_app.extensions.get("kefu_webhook_subscribers", {}).clear()


def queue_deliveries(event: str, ticket, data: dict, occurred_at) -> int:
    """Write one delivery per endpoint subscribed to ``event`` and queue its
    job; commits. Returns how many (0, at the cost of no query while the
    cache is warm, when nobody subscribed). ``ValueError`` for data that is
    not JSON (NaN included: PostgreSQL would refuse the row)."""
    endpoints = subscribers(event)
    if not endpoints:
        return 0
    json.dumps(data, allow_nan=False)
    payload = {"id": str(uuid.uuid4()), "event": event, "occurred_at": occurred_at.isoformat(),
               "ticket": ticket_summary(ticket), "data": data}
    with sdk.UnitOfWork() as uow:
        rows = [WebhookDelivery(endpoint_id=endpoint_id, event=event, event_id=payload["id"], payload=payload,
                                status="pending", attempts=0, created_at=sdk.utcnow())
                for endpoint_id in endpoints]
        sdk.db.session.add_all(rows)
        sdk.db.session.flush()  # the ids the jobs are given
        for row in rows:
            sdk.enqueue(JOB, delivery_id=row.id)
        uow.commit()
    return len(rows)
