"""Canned replies (macros): save them, and apply one to a ticket.

Saving checks everything at once and answers one 422 naming every field
that is wrong (an unknown placeholder names the field and the placeholder),
so a form shows all its errors in one round. Who may save which kind of
macro is ``service.reads.macros`` (``may_manage_scope``).

Applying a macro is one public reply plus its actions, in one transaction:
the priority and department first, then the reply, then the workflow step
(so "resolve" resolves with the reply as the resolution, and "wait" comes
after the question it waits on). Each part goes through the same use case
as when done by hand (``tickets.update_ticket``, ``messages.add_message``,
``tickets.transition``), with their guards; their units of work join this
one, so a refused step (a guard, the workflow, a stale version) rolls the
reply back too: nothing is sent, and the hooks fire after the one commit.

``{tracking_link}`` is the ticket's mail link (``tracking.mail_token``), the
same link every mail to the customer carries: it opens the case while the
customer's own link is valid and revokes nothing. A preview must change
nothing, and the text an agent inserts into the reply box is sent by the
ordinary reply form, so the link has to exist before anything is sent;
issuing a new token instead would also break the links of every earlier
mail. A fresh link (which revokes the old ones) stays the ticket page's
explicit "send a new tracking link".
"""
from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import select

from service.domain import placeholders, workflow
from service.domain.actors import Actor
from service.domain.errors import (
    Conflict,
    Forbidden,
    NotFound,
    StaleVersion,
    ValidationFailed,
)
from service.extensions import db
from service.links import tracking_url
from service.models import PRIORITIES, Department, Macro, Message, Ticket
from service.models.base import utcnow
from service.reads import lookup
from service.reads.macros import macro_for, may_manage_scope, may_use
from service.usecases import messages, tickets, tracking
from service.usecases.uow import UnitOfWork

SCOPES = ("personal", "department", "all")
# Workflow steps a macro may take: the staff actions that need no reason
# typed for the occasion (cancel and reopen do; cancel is a supervisor's too).
MACRO_ACTIONS = tuple(a for a in workflow.STAFF_ACTIONS if "reason" not in workflow.TRANSITIONS[a].requires)
BODY_LIMIT = 20000
NO_TEXT = "give the text in English or Chinese (or both)"
NO_DEPARTMENT = "required for a macro shared by a department"
FIELDS = ("name", "name_zh", "body_en", "body_zh", "scope", "department", "set_status", "set_priority", "set_department",
          "active")


def _department(code, name: str, errors: dict, active_only: bool = False) -> Department | None:
    # A deactivated department is offered for routing no more (a macro that
    # moves tickets there is refused); one sharing macros keeps them.
    if not code:
        return None
    row = db.session.scalar(select(Department).where(Department.code == code))
    if row is None or active_only and not row.active:
        errors.setdefault(name, []).append(f"unknown code {code!r}")
        return None
    return row


def _checked(data: dict, staff) -> dict:
    """``data`` (every field of ``FIELDS``) turned into column values, or one
    ``ValidationFailed`` naming every wrong field."""
    errors: dict[str, list[str]] = {}
    name = (data.get("name") or "").strip()
    if not name:
        errors["name"] = ["must not be blank"]
    elif len(name) > 120:
        errors["name"] = ["Longer than maximum length 120."]
    name_zh = (data.get("name_zh") or "").strip() or None
    if name_zh and len(name_zh) > 120:
        errors["name_zh"] = ["Longer than maximum length 120."]
    bodies = {key: (data.get(key) or "").strip() or None for key in ("body_en", "body_zh")}
    if not any(bodies.values()):
        errors["body_en"] = [NO_TEXT]
    for key, text in bodies.items():
        if text and len(text) > BODY_LIMIT:
            errors.setdefault(key, []).append(f"Longer than maximum length {BODY_LIMIT}.")
        for problem in placeholders.problems(text or ""):
            errors.setdefault(key, []).append(problem)
    scope = data.get("scope") or "personal"
    if scope not in SCOPES:
        errors["scope"] = [f"Must be one of: {', '.join(SCOPES)}."]
    department = None
    if scope == "department":
        department = _department(data.get("department"), "department", errors)
        if department is None and not data.get("department"):
            if staff.department_id is None:
                errors["department"] = [NO_DEPARTMENT]
            else:
                department = db.session.get(Department, staff.department_id)
    status = data.get("set_status") or None
    if status is not None and status not in MACRO_ACTIONS:
        errors["set_status"] = [f"Must be one of: {', '.join(MACRO_ACTIONS)}."]
    priority = data.get("set_priority") or None
    if priority is not None and priority not in PRIORITIES:
        errors["set_priority"] = [f"Must be one of: {', '.join(PRIORITIES)}."]
    set_department = _department(data.get("set_department"), "set_department", errors, active_only=True)
    if errors:
        raise ValidationFailed("invalid macro: " + ", ".join(sorted(errors)), errors)
    return {"name": name, "name_zh": name_zh, **bodies, "owner_id": staff.id if scope == "personal" else None,
            "department_id": department.id if department is not None else None, "set_status": status,
            "set_priority": priority, "set_department_id": set_department.id if set_department else None,
            "active": bool(data.get("active", True))}


def _allowed(staff, values: dict) -> None:
    scope = ("personal" if values["owner_id"] is not None
             else "department" if values["department_id"] is not None else "all")
    if not may_manage_scope(staff, scope, values["owner_id"], values["department_id"]):
        shared = "a department" if scope == "department" else "everyone"
        raise Forbidden(f"your role may not save a macro shared by {shared}", {"scope": ["not allowed for your role"]})


def create_macro(staff, data: dict) -> Macro:
    """Save a new macro from ``data`` (keys of ``FIELDS``; ``scope``
    personal by default, ``department`` a code - the creator's own when
    left out for a department's macro). 422 naming every wrong field, 403
    when ``staff`` may not own a macro of that scope."""
    with UnitOfWork() as uow:
        values = _checked(data, staff)
        _allowed(staff, values)
        now = utcnow()
        macro = Macro(**values, created_by_id=staff.id, created_at=now, updated_at=now, version=1)
        db.session.add(macro)
        uow.commit()
    return macro


def current_values(macro: Macro) -> dict:
    """``macro`` as the fields of ``FIELDS`` (codes for departments): what an edit form starts from."""
    return {"name": macro.name, "name_zh": macro.name_zh, "body_en": macro.body_en, "body_zh": macro.body_zh, "scope": macro.scope,
            "department": macro.department.code if macro.department else None, "set_status": macro.set_status,
            "set_priority": macro.set_priority,
            "set_department": macro.set_department.code if macro.set_department else None, "active": macro.active}


def update_macro(staff, macro_id: int, version, changes: dict) -> Macro:
    """Change the fields named in ``changes`` of macro ``macro_id``; needs
    the current ``version`` (409 ``StaleVersion`` otherwise). The result is
    checked whole (422) and ``staff`` must manage both the macro as it was
    and as it becomes (403); a personal macro stays its owner's."""
    with UnitOfWork() as uow:
        macro = macro_for(staff, macro_id, manage=True)
        if version != macro.version:
            raise StaleVersion(f"version {version} is stale: the macro is at version {macro.version}",
                               {"version": [f"stale; current version is {macro.version}"]},
                               current_version=macro.version)
        owner = macro.owner_id
        values = _checked({**current_values(macro), **changes}, staff)
        if values["owner_id"] is not None and owner is not None:
            values["owner_id"] = owner
        _allowed(staff, values)
        for key, value in values.items():
            setattr(macro, key, value)
        macro.version += 1
        macro.updated_at = utcnow()
        uow.commit()
    return macro


def delete_macro(staff, macro_id: int) -> None:
    """Delete macro ``macro_id`` (messages sent with it stay as they are);
    404 when ``staff`` may not see it, 403 when they may not manage it."""
    with UnitOfWork() as uow:
        db.session.delete(macro_for(staff, macro_id, manage=True))
        uow.commit()


@dataclass
class Applied:
    """A macro rendered for a ticket (``message`` None for a preview):
    ``text`` in ``language``, and its ``actions`` as ``(kind, code,
    possible now)`` with kind ``priority``, ``department`` or ``status``."""

    macro: Macro
    ticket: Ticket
    text: str
    language: str
    actions: list[tuple[str, str, bool]] = field(default_factory=list)
    message: Message | None = None


def _language(ticket: Ticket) -> str:
    return "zh_CN" if (ticket.customer.language or "").startswith("zh") else "en"


def render(macro: Macro, ticket: Ticket, staff) -> tuple[str, str]:
    """``(text, language)``: the macro's text in the customer's language
    (``body_zh`` for Chinese, ``body_en`` for English, else the other one)
    with the placeholders filled for ``ticket`` and the agent ``staff``."""
    language = _language(ticket)
    zh = language == "zh_CN"
    body = (macro.body_zh or macro.body_en) if zh else (macro.body_en or macro.body_zh)
    department = macro.set_department or ticket.department
    values = {
        "customer_name": ticket.customer.name,
        "ticket_number": ticket.number,
        "tracking_link": tracking_url(tracking.mail_token(ticket)) if ticket.tracking_hash else "",
        "department": ((department.name_zh if zh and department.name_zh else department.name)
                       if department is not None else ""),
        "agent_name": staff.name,
    }
    return placeholders.fill(body or "", values), language


def _actions(macro: Macro, ticket: Ticket, staff) -> list[tuple[str, str, bool]]:
    open_ = ticket.status not in workflow.FINAL_STATUSES
    out = []
    if macro.set_priority:
        out.append(("priority", macro.set_priority, open_))
    if macro.set_department:
        out.append(("department", macro.set_department.code, open_))
    if macro.set_status:
        out.append(("status", macro.set_status,
                    macro.set_status in workflow.allowed_actions(ticket.status, "staff", staff.role)))
    return out


def preview(number: str, macro_id: int, staff) -> Applied:
    """Macro ``macro_id`` rendered for ticket ``number`` by ``staff``, with
    its actions and whether each is possible now; changes nothing. 404 for
    a ticket or a macro ``staff`` may not use."""
    ticket = lookup.ticket_by_number(number)
    macro = _usable(staff, macro_id)
    text, language = render(macro, ticket, staff)
    return Applied(macro, ticket, text, language, _actions(macro, ticket, staff))


def _usable(staff, macro_id: int) -> Macro:
    macro = macro_for(staff, macro_id)
    if not may_use(staff, macro):
        raise NotFound(f"macro {macro_id} is not active")
    return macro


def apply(number: str, macro_id: int, staff, version, body: str | None = None) -> Applied:
    """Send macro ``macro_id``'s reply on ticket ``number`` and take its
    actions, as ``staff``, in one transaction (see the module). ``body``,
    when given, is the agent's edited text, sent instead of the rendered one.
    Needs the ticket's current ``version`` (409 ``StaleVersion``); a closed
    or cancelled ticket, a step the workflow does not allow now or a guard's
    refusal answer 409 and nothing is sent; a blank text 422."""
    if not isinstance(version, int) or isinstance(version, bool):
        raise ValidationFailed("the ticket's version is required to send", {"version": ["required to send"]})
    actor = Actor.staff(staff)
    with UnitOfWork() as uow:
        applied = preview(number, macro_id, staff)
        ticket, macro = applied.ticket, applied.macro
        tickets.check_version(ticket, version)
        if ticket.status in workflow.FINAL_STATUSES:
            raise Conflict(f"ticket {ticket.number} is {ticket.status}", current_status=ticket.status,
                           allowed_actions=[])
        text = (body if body is not None else applied.text).strip()
        changes = {}
        if macro.set_priority:
            changes["priority"] = macro.set_priority
        if macro.set_department and macro.set_status != "confirm":  # confirming names the department itself
            changes["department"] = macro.set_department.code
        if changes:
            tickets.update_ticket(ticket, ticket.version, changes, actor)
        applied.message = messages.add_message(ticket, text, actor)
        if macro.set_status:
            values = {}
            if macro.set_status == "confirm":
                department = macro.set_department or ticket.department
                values["department"] = department.code if department is not None else None
            elif macro.set_status == "resolve":
                values["resolution"] = text
            tickets.transition(ticket, macro.set_status, ticket.version, values, actor)
        applied.text = text
        uow.commit()
    return applied
