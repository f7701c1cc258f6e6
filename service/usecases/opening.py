"""Opening a ticket (listen): the customer, the openers, the deciders, one INSERT.

Order, so that each step sees what the ones before decided:

1. the ``customer_tier`` decider (openers may look at the tier);
2. the openers (``opening_ticket``), plugin by plugin, each changing fields
   of the draft (priority, category, department, assignee, tags) and adding
   internal notes;
3. the history's first events (``created`` already shows the final
   fields), the SLA (``sla_targets`` sees the final priority) and the
   remedy (``remedy_approval``);
4. one INSERT for the ticket (with its first history on PostgreSQL), then
   the openers' notes.
"""
from __future__ import annotations

import dataclasses

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from service.domain.actors import Actor
from service.domain.errors import Conflict, KefuError, ValidationFailed
from service.extensions import db
from service.hooks import plugins
from service.hooks.types import TicketDraft
from service.models import PRIORITIES, Message, Ticket
from service.models.base import insert_attached, utcnow
from service.reads import lookup
from service.usecases import decisions, history, tracking
from service.usecases.customers import customer_for_contact
from service.usecases.uow import UnitOfWork

TAG_MAX, TAGS_MAX = 40, 20


def clean_tags(tags, field: str = "tags") -> list[str]:
    """``tags`` as a list of distinct trimmed strings (1-40 characters, at
    most 20), in their order; 422 naming ``field`` otherwise."""
    if tags is None:
        return []
    if not isinstance(tags, (list, tuple)) or not all(isinstance(t, str) for t in tags):
        raise ValidationFailed("tags must be a list of text", {field: ["a list of short texts"]})
    out = list(dict.fromkeys(t.strip() for t in tags if t.strip()))
    if len(out) > TAGS_MAX or any(len(t) > TAG_MAX for t in out):
        raise ValidationFailed("too many or too long tags",
                               {field: [f"at most {TAGS_MAX} tags of at most {TAG_MAX} characters"]})
    return out


def _draft(ticket: Ticket, customer) -> TicketDraft:
    return TicketDraft(
        customer=customer, customer_tier=ticket.customer_tier, kind=ticket.kind, category=ticket.category.code,
        channel=ticket.channel, priority=ticket.priority, subject=ticket.subject, description=ticket.description,
        department=ticket.department.code if ticket.department else None, assignee=ticket.assignee_id,
        tags=tuple(ticket.tags or ()))


def _apply_opening(ticket: Ticket, shaped: list):
    """The ``apply`` of ``Plugins.open``: check one opener's changes, set them
    on ``ticket`` and return the next draft. Keeps ``(plugin, diff, notes)``
    in ``shaped`` for the history. ``ValueError`` for a change it cannot make."""

    def apply(draft: TicketDraft, plugin: str, opening: dict) -> TicketDraft:
        changes, notes = dict(opening.get("changes") or {}), list(opening.get("notes") or [])
        diff, values = {}, {}
        try:
            if "priority" in changes and changes["priority"] != draft.priority:
                if changes["priority"] not in PRIORITIES:
                    raise ValueError(f"unknown priority {changes['priority']!r}")
                diff["priority"], values["priority"] = [draft.priority, changes["priority"]], changes["priority"]
            if "category" in changes and changes["category"] != draft.category:
                values["category"] = lookup.category_by_code(changes["category"])
                diff["category"] = [draft.category, changes["category"]]
            if "department" in changes and changes["department"] != draft.department:
                values["department"] = (lookup.department_by_code(changes["department"])
                                        if changes["department"] else None)
                diff["department"] = [draft.department, changes["department"]]
            if "assignee" in changes and changes["assignee"] != draft.assignee:
                values["assignee"] = lookup.staff_by_id(changes["assignee"]) if changes["assignee"] else None
                diff["assignee"] = [draft.assignee, changes["assignee"]]
            if "tags" in changes:
                tags = clean_tags(changes["tags"])
                if tags != list(draft.tags):
                    diff["tags"], values["tags"] = [list(draft.tags), tags], tags
        except KefuError as exc:  # an unknown code: the plugin's mistake, not the customer's
            raise ValueError(f"{exc.message}") from None
        if any(not isinstance(n, str) or not n.strip() for n in notes):
            raise ValueError("notes must be non-blank text")
        for key, value in values.items():
            setattr(ticket, key, value)
        if diff or notes:
            shaped.append((plugin, diff, [n.strip() for n in notes]))
        return dataclasses.replace(draft, priority=ticket.priority, category=ticket.category.code,
                                   department=ticket.department.code if ticket.department else None,
                                   assignee=ticket.assignee.id if ticket.assignee else None,
                                   tags=tuple(ticket.tags or ()))

    return apply


def create(data: dict, actor: Actor, channel: str, customer, parent: Ticket | None = None,
           sign_token: bool = True, uow: UnitOfWork | None = None,
           request_key: str | None = None) -> tuple[Ticket, str | None]:
    """Insert a new ticket with its number, the openers' changes, the deciders'
    answers and its first history, inside the caller's unit of work (which
    emits ``ticket_created`` when ``uow`` is given); return it with the
    customer's new tracking token (None unless ``sign_token``)."""
    category = lookup.category_by_code(data.get("category") or "other")
    department = lookup.department_by_code(data["department"]) if data.get("department") else None
    assignee = lookup.staff_by_id(data["assignee"]) if data.get("assignee") else None
    remedy = data.get("remedy") or {}
    now = utcnow()
    ticket = Ticket(
        kind=data.get("kind") or "complaint", channel=channel, category=category,
        subject=data["subject"], description=data["description"],
        priority=data.get("priority") or "normal", status="new", customer=customer,
        department=department, assignee=assignee, parent=parent, remedy_text=remedy.get("text"),
        remedy_amount_minor=remedy.get("amount_minor"), remedy_currency=remedy.get("currency"),
        created_at=now, updated_at=now, version=1, reopen_count=0, tags=clean_tags(data.get("tags")) or None,
        email_message_id=data.get("email_message_id"), request_key=request_key,
    )
    # Everything is decided before the first write, so that the ticket, its
    # decisions and its first history rows go out together. "created" is
    # the first event, with the fields as the openers left them.
    manager = plugins()
    answer, tier_plugin, tier_failures = manager.decide("customer_tier", customer=customer)
    if answer is not None:
        ticket.customer_tier = str(answer)[:20]
    shaped: list = []
    opener_failures = (manager.open("opening_ticket", _draft(ticket, customer), _apply_opening(ticket, shaped),
                                    actor=actor)
                       if manager.impls("opening_ticket") else [])
    history.record(ticket, actor, "created", None, "new", channel=channel, kind=ticket.kind,
                   category=ticket.category.code, priority=ticket.priority,
                   parent=parent.number if parent else None)
    decisions.record_failures(ticket, "customer_tier", tier_failures)
    if ticket.customer_tier is not None:
        history.record(ticket, Actor("plugin", name=tier_plugin), "tier_decided", tier=ticket.customer_tier)
    decisions.record_failures(ticket, "opening_ticket", opener_failures)
    for plugin, diff, _notes in shaped:
        if diff:
            history.record(ticket, Actor("plugin", name=plugin), "opening_changes", changes=diff)
    decisions.apply_sla(ticket)
    decisions.remedy(ticket, customer)
    token = tracking.issue_token(ticket, sign=sign_token)
    # The id, and with it the number; on PostgreSQL the first history rows
    # go in the same statement.
    insert_attached(db.session, ticket, history.with_first_events(ticket))
    if uow is not None:
        uow.emit("ticket_created", ticket=ticket, actor=actor)
    for plugin, _diff, notes in shaped:
        for body in notes:
            _note(ticket, plugin, body, now, uow)
    return ticket, token


def _note(ticket: Ticket, plugin: str, body: str, now, uow: UnitOfWork | None) -> None:
    message = Message(ticket_id=ticket.id, author_type="plugin", author_name=plugin[:120], body=body,
                      internal=True, created_at=now)
    db.session.add(message)
    db.session.flush()
    actor = Actor("plugin", name=plugin)
    history.record(ticket, actor, "note_added", message_id=message.id)
    if uow is not None:
        uow.emit("message_added", ticket=ticket, message=message, actor=actor)


def open_ticket(data: dict, actor: Actor, channel: str = "api",
                sign_token: bool = True, request_key: str | None = None) -> tuple[Ticket, str | None]:
    """Open a ticket (listen) and return it with the customer's tracking token
    (None with ``sign_token`` false, for callers with no customer to give it to).

    ``data``: ``subject``, ``description`` (required); ``kind``, ``category``
    (code, default ``other``), ``priority``, ``department`` (code),
    ``assignee`` (staff id), ``tags``, ``remedy`` (``text``, ``amount_minor``,
    ``currency``); and either ``customer_id`` or ``contact`` (``name``,
    ``email``/``phone``, ``language``) to find or create the customer;
    ``email_message_id`` for a ticket opened by an e-mail. Unknown codes
    answer 422.

    ``request_key`` (a client's Idempotency-Key): the same key again returns
    the ticket it filed, with a new tracking token (the first answer was
    lost), and files nothing; the key with another contact is a 409
    ``request_key_reused``.
    """
    if request_key:
        replayed = _replay(request_key, data, sign_token)
        if replayed is not None:
            return replayed
    try:
        with UnitOfWork() as uow:
            if data.get("customer_id") is not None:
                customer = lookup.customer_by_id(data["customer_id"], field="customer_id", preload=lookup.OPENING)
            else:
                customer = customer_for_contact(data.get("contact") or {})
            ticket, token = create(data, actor, channel, customer, sign_token=sign_token, uow=uow,
                                   request_key=request_key)
            uow.commit()
    except IntegrityError:
        # The same key filed by a request running alongside: answer its ticket.
        replayed = _replay(request_key, data, sign_token) if request_key else None
        if replayed is None:
            raise
        return replayed
    return ticket, token


def _same_requester(ticket: Ticket, data: dict) -> bool:
    if data.get("customer_id") is not None:
        return ticket.customer_id == data["customer_id"]
    contact, customer = data.get("contact") or {}, ticket.customer
    return any(contact.get(k) and (getattr(customer, k) or "").lower() == str(contact[k]).strip().lower()
               for k in ("email", "phone"))


def _replay(request_key: str, data: dict, sign_token: bool) -> tuple[Ticket, str | None] | None:
    with UnitOfWork() as uow:
        ticket = db.session.scalar(select(Ticket).where(Ticket.request_key == request_key))
        if ticket is None:
            return None
        if not _same_requester(ticket, data):
            raise Conflict("this Idempotency-Key filed a ticket for someone else; send a new key",
                           {"request_key": ["already used for another request"]}, code="request_key_reused")
        # Only the token's hash was kept: the lost answer's token cannot be
        # shown again, so the ticket gets a new one.
        token = tracking.issue_token(ticket, sign=sign_token)
        uow.commit()
    return ticket, token
