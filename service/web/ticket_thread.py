"""What the console's ticket page reads as a conversation, and what it folds away.

* The **thread**: the customer's description (the first entry, with the
  files filed with it), the messages and internal notes (each with its
  files), and the workflow steps - thin lines, with the text a step carries
  (a resolution, a reason) since that is part of the conversation. Oldest
  first: the page reads top-down like a mail thread and the reply box sits
  under the newest entry.
* The **activity strip**: every other history event (edits, SLA, tiers,
  remedies, plugins' doings), filterable by group.
* **Changes since** an event the agent had seen: what a stale form missed.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import select

from service.domain.workflow import TRANSITIONS
from service.extensions import db
from service.models import Attachment, Ticket, TicketEvent
from service.reads import listing

# History rows the thread shows as the messages themselves.
_MESSAGES = frozenset({"message_added", "note_added"})
# Steps of the conversation: the workflow's, and what replaces one.
_STEPS = frozenset(TRANSITIONS) | {"followup_opened", "auto_closed"}
# The activity strip's filters (besides "all"), in the order the page offers them.
ACTIVITY_FILTERS = ("changes", "sla", "plugins")
_SLA_ACTIONS = frozenset({"sla_applied", "sla_refreshed", "sla_warning", "sla_breach", "sla_takeover",
                          "tier_decided"})


@dataclass
class Entry:
    """One entry of the thread: ``kind`` "description", "message" or "step";
    ``item`` the Ticket, Message or TicketEvent; ``files`` its attachments."""

    kind: str
    at: object
    item: object
    files: list[Attachment] = field(default_factory=list)


def activity_groups(event: TicketEvent) -> frozenset[str]:
    """The activity filters ``event`` belongs to: "sla" (SLA targets,
    warnings, tiers), "plugins" (done by a plugin, or a plugin's failure or
    refusal), "changes" (everything else: edits, files, remedies, merges)."""
    groups = set()
    if event.action in _SLA_ACTIONS:
        groups.add("sla")
    if event.actor_type == "plugin" or event.action in ("plugin_error", "change_refused"):
        groups.add("plugins")
    if not groups:
        groups.add("changes")
    return frozenset(groups)


def thread_and_activity(ticket: Ticket, include_internal: bool = True) -> tuple[list[Entry], list[TicketEvent]]:
    """``(thread, activity)`` of ``ticket`` (see the module), both oldest first."""
    events = listing.ticket_history(ticket)
    files: dict[int | None, list[Attachment]] = {}
    for attachment in listing.ticket_attachments(ticket):
        files.setdefault(attachment.message_id, []).append(attachment)
    thread = [Entry("description", ticket.created_at, ticket, files.get(None, []))]
    thread += [Entry("message", m.created_at, m, files.get(m.id, []))
               for m in listing.ticket_messages(ticket, include_internal=include_internal)]
    thread += [Entry("step", e.at, e) for e in events if e.action in _STEPS]
    order = {"description": 0, "step": 1, "message": 2}
    thread.sort(key=lambda e: (e.at, order[e.kind], e.item.id))
    activity = [e for e in events if e.action not in _STEPS and e.action not in _MESSAGES and e.action != "created"]
    return thread, activity


def filtered(activity: list[TicketEvent], wanted: str) -> list[TicketEvent]:
    """The events of ``activity`` in filter ``wanted`` (anything but one of
    ``ACTIVITY_FILTERS`` means all)."""
    if wanted not in ACTIVITY_FILTERS:
        return activity
    return [e for e in activity if wanted in activity_groups(e)]


def last_event_id(ticket: Ticket) -> int:
    """The id of ``ticket``'s newest history event (0 when none): what a
    form carries as ``seen`` so that a refusal can list what came after."""
    return db.session.scalar(select(TicketEvent.id).where(TicketEvent.ticket_id == ticket.id)
                             .order_by(TicketEvent.id.desc()).limit(1)) or 0


def changes_since(ticket: Ticket, seen: int | None) -> list[TicketEvent]:
    """``ticket``'s history events after event id ``seen``, oldest first
    (none when the form did not say what it had seen)."""
    if not seen:
        return []
    return db.session.scalars(select(TicketEvent).where(TicketEvent.ticket_id == ticket.id,
                                                        TicketEvent.id > seen)
                              .order_by(TicketEvent.id)).all()
