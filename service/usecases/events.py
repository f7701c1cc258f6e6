"""kefu's event vocabulary: what the core publishes for each change.

These are the events webhooks deliver (``event_published``); plugins add
their own names (``sla.breached``, ``survey.answered``) through
``UnitOfWork.publish``. Data never carries customer contact details, and
internal notes never leave kefu.
"""
from __future__ import annotations

import json
import re

CORE_EVENTS = ("ticket.created", "ticket.transitioned", "ticket.updated", "message.added",
               "resolution.answered")
# "noun.verb". Use fullmatch: match() with $ also accepts a trailing newline.
EVENT_NAME = re.compile(r"[a-z_]+\.[a-z_]+")
EVENT_MAX = 60


def _iso(value):
    return value.isoformat() if value is not None else None


def check_event(event: str, data) -> None:
    """``ValueError`` unless ``event`` is a ``noun.verb`` name (at most 60
    characters) and ``data`` a dict of JSON (no NaN: PostgreSQL's JSON
    refuses it). Checked when published, so that a plugin's mistake shows
    in its first test, not on the day someone subscribes."""
    if not isinstance(event, str) or len(event) > EVENT_MAX or not EVENT_NAME.fullmatch(event):
        raise ValueError(f"event {event!r} must be a noun.verb name such as 'sla.breached'")
    if not isinstance(data, dict):
        raise ValueError("event data must be a dict")
    try:
        json.dumps(data, allow_nan=False)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"event {event}: data must be JSON: {exc}") from None


def core_event(hook: str, kwargs: dict) -> tuple[str, dict] | None:
    """The event (name, data) the core publishes for notification ``hook``
    with ``kwargs``, or None when it publishes none (internal notes, plugins' hooks)."""
    if hook == "ticket_created":
        return "ticket.created", {}
    if hook == "ticket_transitioned":
        # Not the details: reasons and resolutions are free text.
        return "ticket.transitioned", {"action": kwargs["action"], "from": kwargs["from_status"],
                                       "to": kwargs["to_status"]}
    if hook == "ticket_updated":
        return "ticket.updated", {"changes": kwargs["changes"]}
    if hook == "message_added":
        message = kwargs["message"]
        if message.internal:
            return None
        return "message.added", {"message": {"id": message.id, "author_type": message.author_type,
                                             "body": message.body, "created_at": _iso(message.created_at)}}
    if hook == "resolution_answered":
        followup = kwargs.get("followup")
        return "resolution.answered", {"accepted": bool(kwargs["accepted"]), "reason": kwargs.get("reason"),
                                       "followup": followup.number if followup is not None else None}
    return None
