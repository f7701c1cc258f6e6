"""The console's ticket page as one render: what the template needs, for a
plain view and for a refused form shown again with what was typed.

Business rules stay in the use cases; this module only chooses what to
show: the workflow's natural next step as the one primary action, the
thread and activity strip, the first response, colleagues on the ticket.
"""
from __future__ import annotations

from babel.units import format_unit
from flask import render_template, request
from flask_babel import get_locale
from sqlalchemy import select

from service.domain.errors import KefuError, StaleVersion
from service.domain.workflow import TRANSITIONS, MissingFields, allowed_actions
from service.extensions import db
from service.models import PRIORITIES, Category, Department, Staff, Ticket
from service.models.base import utcnow
from service.reads.sla_state import first_response_at, sla_state
from service.usecases import presence
from service.web.insights import (
    actor_text,
    customer_summary,
    event_details,
    shown_value,
)
from service.web.pages import error_message, field_errors
from service.web.panels import ticket_panels
from service.web.ticket_thread import (
    ACTIVITY_FILTERS,
    activity_groups,
    changes_since,
    filtered,
    last_event_id,
    thread_and_activity,
)

# The workflow's natural next step from each status: the page's one primary
# action. Waiting on the customer: resuming the handling (their answer came
# by phone, or it is time to chase) - resolving from there is the reply
# box's "Send and resolve" or a secondary step. Resolved: closing (the
# customer accepted); reopening is the exception.
PRIMARY = {"new": "confirm", "confirmed": "start", "in_progress": "resolve",
           "waiting_on_customer": "start", "resolved": "close"}
# Destructive steps: apart from the others, red, confirmed before they run.
DESTRUCTIVE = ("cancel",)


def first_response(ticket: Ticket) -> dict | None:
    """``{"at", "how"}`` of ``ticket``'s first response ("confirm" when it
    was the confirmation, else "reply"), or None when not given yet."""
    at = first_response_at(ticket)
    if at is None:
        return None
    return {"at": at, "how": "confirm" if ticket.confirmed_at == at else "reply"}


def file_size(size: int) -> str:
    """A file's size in the page's language, in words rather than unit
    symbols ("17 bytes", "3.2 kilobytes"; "17字节" in Chinese)."""
    unit, value = (("digital-byte", size) if size < 1024 else ("digital-kilobyte", round(size / 1024, 1))
                   if size < 1024 * 1024 else ("digital-megabyte", round(size / 1024 / 1024, 1)))
    return format_unit(value, unit, length="long", locale=get_locale())


def _options(model, current_id):
    # The ticket's own category or department stays selectable even when
    # retired, so saving the edit form does not change it by accident.
    query = select(model).where(model.active.is_(True) | (model.id == current_id))
    order = (model.position, model.id) if model is Category else (model.id,)
    return db.session.scalars(query.order_by(*order)).all()


def render_page(ticket: Ticket, staff: Staff, refusal: Exception | None = None, form: str | None = None,
                values=None, seen: int | None = None, held=None):
    """The ticket page for ``staff``; with ``refusal`` (the error of the
    form named ``form``: "reply", "edit", "remedy" or "do-<action>") the
    page answers its HTTP status (409 for a stale version or an illegal
    step, 422 for bad input), keeps the form ``values`` typed, names the
    error once (fields beside their inputs) and lists the history events
    after event ``seen``, the newest the agent had seen. ``held``: the files
    kept from the refused reply (``service.usecases.held_uploads``), offered
    as ticked boxes so that sending again needs no new choice."""
    now = utcnow()
    actions = allowed_actions(ticket.status, "staff", staff.role)
    primary = PRIMARY.get(ticket.status) if PRIMARY.get(ticket.status) in actions else None
    thread, activity = thread_and_activity(ticket)
    wanted = request.args.get("activity", "all")
    assignees = db.session.scalars(select(Staff).where(Staff.active.is_(True)).order_by(Staff.name)).all()
    status = 200
    problem = errors = None
    changed = []
    if refusal is not None:
        # IllegalTransition's own ``status`` is the ticket's, not an HTTP one.
        status = refusal.status if isinstance(refusal, KefuError) else 422 if isinstance(refusal, MissingFields) else 409
        problem = error_message(refusal)
        errors = field_errors(getattr(refusal, "fields", None) or {})
        errors.pop("version", None)  # the page names what changed instead
        changed = changes_since(ticket, seen) if isinstance(refusal, StaleVersion) or status == 409 else []
    return render_template(
        "web/console/ticket.html", ticket=ticket, staff=staff, now=now,
        sla=sla_state(ticket, now), first_response=first_response(ticket),
        policy=shown_value(ticket.sla_policy, "policy") if ticket.sla_policy else None,
        remedy_reason=shown_value(ticket.remedy_reason, "reason") if ticket.remedy_reason else None,
        primary=TRANSITIONS[primary] if primary else None,
        secondary=[TRANSITIONS[a] for a in actions if a != primary and a not in DESTRUCTIVE],
        destructive=[TRANSITIONS[a] for a in actions if a in DESTRUCTIVE],
        can_reply={a: a in actions for a in ("resolve", "wait")},
        thread=thread, activity=filtered(activity, wanted), activity_count=len(activity),
        activity_filter=wanted if wanted in ACTIVITY_FILTERS else "all", activity_filters=ACTIVITY_FILTERS,
        activity_groups=activity_groups, actor_text=actor_text, file_size=file_size, event_details=event_details,
        seen=last_event_id(ticket), others=presence.colleagues(ticket.id, staff.id),
        customer=customer_summary(ticket.customer, ticket),
        panels=ticket_panels(ticket, staff), priorities=PRIORITIES,
        categories=_options(Category, ticket.category_id), departments=_options(Department, ticket.department_id),
        assignees=assignees, staff_names={s.id: s.name for s in assignees},
        can_decide_remedy=ticket.remedy_decision == "needs_approval"
        and staff.has_role(ticket.remedy_approver or "supervisor"),
        problem=problem, errors=errors or {}, changed=changed, form=form, values=values or {}, held=held or [],
    ), status
