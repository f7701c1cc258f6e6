"""The rules: who is VIP at opening, and what must happen before a resolve."""
from __future__ import annotations

from service import sdk

from .settings import break_if_asked, settings


def vip_opening(draft: sdk.TicketDraft) -> sdk.Opening | None:
    """Urgent, tagged ``vip``, with a note - for a customer in a VIP tier."""
    break_if_asked("opening_ticket")
    if draft.customer_tier not in settings()["ACME_VIP_TIERS"]:
        return None
    return {"changes": {"priority": "urgent", "tags": [*draft.tags, "vip"]},
            "notes": [f"VIP customer ({draft.customer_tier}): opened as urgent by the acme VIP rule."]}


def reply_before_resolve(ticket, change: sdk.TicketChange) -> sdk.Refusal | None:
    """Refuse a resolve while the customer has had no public reply."""
    break_if_asked("guard_ticket_change")
    if change.action != "resolve":
        return None
    replied = any(m.author_type != "customer" for m in sdk.ticket_messages(ticket, include_internal=False))
    if replied:
        return None
    return {"code": "no_public_reply",
            "message": "Reply to the customer before resolving: they have not heard from us yet."}
