"""The console's ticket page: timeline, transitions, reply and note, edit and
assign, SLA countdown, customer panel, plugin panels."""
from __future__ import annotations

import marshmallow as ma
from flask import Blueprint, flash, redirect, render_template, request, url_for
from sqlalchemy import select

from service.api.schemas import MessageIn, RemedyDecisionIn, TransitionIn
from service.domain.actors import Actor
from service.domain.errors import KefuError, ValidationFailed
from service.domain.workflow import (
    TRANSITIONS,
    IllegalTransition,
    MissingFields,
    allowed_actions,
)
from service.extensions import db
from service.models import PRIORITIES, Category, Department, Staff
from service.models.base import utcnow
from service.reads.lookup import ticket_by_number
from service.translate import gettext as _
from service.usecases import messages, recovery, remedies, tickets
from service.usecases.notifications import mark_seen
from service.web.i18n import label
from service.web.insights import customer_summary, event_details, timeline
from service.web.pages import error_message, field_errors, register_error_pages
from service.web.panels import ticket_panels
from service.web.session import console_staff, load_console_staff, require_staff

bp = Blueprint("console_ticket", __name__, url_prefix="/console/tickets")
bp.before_request(load_console_staff)
register_error_pages(bp)


def _version() -> int | None:
    raw = request.form.get("version", "")
    return int(raw) if raw.isdigit() and int(raw) < 2**31 else None


def _checked(schema: ma.Schema, data: dict) -> dict:
    """``data`` loaded by the API's own ``schema`` (the same limits for a form
    as for the API); ``ValidationFailed`` naming the fields otherwise."""
    try:
        return schema.load(data)
    except ma.ValidationError as exc:
        raise ValidationFailed("invalid form", exc.messages) from None


def _back(number, anchor=""):
    return redirect(url_for("console_ticket.show", number=number) + anchor)


def _flash_error(exc: Exception) -> None:
    fields = getattr(exc, "fields", None) or {}
    detail = "; ".join(f"{name}: {' '.join(reasons)}" for name, reasons in field_errors(fields).items())
    flash(error_message(exc) + (f" ({detail})" if detail else ""), "error")


@bp.route("/<number>")
@require_staff("agent", "finance")
def show(number):
    """One ticket with everything an agent works with."""
    staff = console_staff()
    ticket = ticket_by_number(number)
    mark_seen(staff, ticket)  # notifications: seen now, its notices read
    assignees = db.session.scalars(select(Staff).where(Staff.active.is_(True)).order_by(Staff.name)).all()
    return render_template(
        "web/console/ticket.html", ticket=ticket, staff=staff, now=utcnow(),
        actions=[TRANSITIONS[a] for a in allowed_actions(ticket.status, "staff", staff.role)],
        timeline=timeline(ticket), customer=customer_summary(ticket.customer, ticket),
        panels=ticket_panels(ticket, staff), priorities=PRIORITIES,
        # The ticket's own category stays selectable even when retired, so
        # saving the edit form does not change it by accident.
        categories=db.session.scalars(select(Category).where(Category.active.is_(True)
                                                             | (Category.id == ticket.category_id))
                                      .order_by(Category.position, Category.id)).all(),
        # Likewise its department: a deactivated one is offered only to the tickets already in it.
        departments=db.session.scalars(select(Department).where(Department.active.is_(True)
                                                                | (Department.id == ticket.department_id))
                                       .order_by(Department.id)).all(),
        assignees=assignees, staff_names={s.id: s.name for s in assignees}, event_details=event_details,
        can_decide_remedy=ticket.remedy_decision == "needs_approval"
        and staff.has_role(ticket.remedy_approver or "supervisor"))


@bp.route("/<number>/remedy", methods=["POST"])
@require_staff("supervisor", "finance")
def remedy(number):
    """Approve or refuse the remedy that waits for this staff member's approval (with the reason)."""
    decision = request.form.get("decision", "")
    try:
        reason = _checked(RemedyDecisionIn(only=("reason",)), {"reason": request.form.get("reason", "")})["reason"]
        remedies.decide_remedy(number, decision, reason, _version(), console_staff())
    except KefuError as exc:
        _flash_error(exc)
    else:
        flash(_("Remedy approved.") if decision == "approved" else _("Remedy refused."), "ok")
    return _back(number)


@bp.route("/<number>/transition", methods=["POST"])
@require_staff("agent")
def transition(number):
    """One workflow step (the form names the action and its fields)."""
    values = {k: request.form.get(k) for k in ("department", "resolution", "reason") if request.form.get(k)}
    try:
        _checked(TransitionIn(only=("department", "resolution", "reason")), values)
        _ticket, followup = tickets.transition(number, request.form.get("action", ""), _version(), values,
                                               Actor.staff(console_staff()))
    except (KefuError, IllegalTransition, MissingFields) as exc:
        _flash_error(exc)
        return _back(number)
    flash(_("Done: %(action)s.", action=label("action", request.form.get("action"))), "ok")
    if followup is not None:
        return _back(followup.number)
    return _back(number)


@bp.route("/<number>/messages", methods=["POST"])
@require_staff("agent")
def message(number):
    """A public reply to the customer, or an internal note."""
    # Strictly a yes or a no: a value the form never sends must not turn an
    # internal note into a reply the customer reads.
    form = {"body": request.form.get("body", ""), "internal": request.form.get("internal", "0")}
    internal = False
    try:
        data = _checked(MessageIn(), form)
        internal = data["internal"]
        messages.add_message(number, data["body"], Actor.staff(console_staff()), internal)
    except KefuError as exc:
        _flash_error(exc)
    else:
        flash(_("Note added.") if internal else _("Reply sent."), "ok")
    return _back(number, "#timeline")


@bp.route("/<number>/tracking-link", methods=["POST"])
@require_staff("agent")
def tracking_link(number):
    """A new tracking link for a customer who lost theirs (a caller, usually):
    mailed when they have an address, else shown to read out."""
    url, mailed = recovery.send_new_link(ticket_by_number(number), Actor.staff(console_staff()))
    if mailed:
        flash(_("A new link was mailed to the customer. Earlier links no longer work."), "ok")
    else:
        flash(_("The customer has no e-mail address: read them this link (earlier links no longer work): "
                "%(url)s", url=url), "ok")
    return _back(number, "#customer-h")


@bp.route("/<number>/edit", methods=["POST"])
@require_staff("agent")
def edit(number):
    """Change priority, category, department or assignee (only fields that changed are sent on)."""
    form = request.form
    changes = {}
    for key in ("priority", "category"):
        if form.get(key):
            changes[key] = form[key]
    if "department" in form:
        changes["department"] = form["department"] or None
    if "assignee" in form:
        raw = form["assignee"]
        if raw == "me":
            changes["assignee"] = console_staff().id
        else:
            changes["assignee"] = int(raw) if raw.isdigit() and int(raw) < 2**31 else None
    try:
        tickets.update_ticket(number, _version(), changes, Actor.staff(console_staff()))
    except KefuError as exc:
        _flash_error(exc)
    else:
        flash(_("Saved."), "ok")
    return _back(number)
