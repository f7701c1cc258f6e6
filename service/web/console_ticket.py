"""The console's ticket page: the conversation first (thread, reply box),
the activity strip, one primary workflow step, the SLA, customer, plugin
and edit cards, who else has the ticket open, and the files.

Every form works without JavaScript: a success redirects back to the page;
a refusal renders the page again (422 or 409) with what was typed kept and
the refusal named once, on its field where it has one. With a script htmx
sends the same forms and swaps the same answers into the open page (see
web/console/ticket.html); a refusal only adds the address htmx should show.
The page itself is ``service.web.ticket_page``.
"""
from __future__ import annotations

import marshmallow as ma
from flask import (
    Blueprint,
    flash,
    redirect,
    render_template,
    request,
    send_file,
    url_for,
)

from service.api.schemas import MessageIn, RemedyDecisionIn, TransitionIn
from service.domain.actors import Actor
from service.domain.errors import KefuError, ValidationFailed
from service.domain.workflow import IllegalTransition, MissingFields
from service.reads import listing
from service.reads.lookup import ticket_by_number
from service.translate import gettext as _
from service.usecases import (
    held_uploads,
    messages,
    presence,
    recovery,
    remedies,
    tickets,
)
from service.usecases.notifications import mark_seen
from service.usecases.uow import UnitOfWork
from service.web.i18n import label
from service.web.pages import register_error_pages
from service.web.session import console_staff, load_console_staff, require_staff
from service.web.ticket_page import render_page

bp = Blueprint("console_ticket", __name__, url_prefix="/console/tickets")
bp.before_request(load_console_staff)
register_error_pages(bp)

_REFUSALS = (KefuError, IllegalTransition, MissingFields)
# The reply box's buttons (``send``): a reply, a reply and a step, a note.
SEND = ("reply", "resolve", "wait", "note")


def _int(name: str) -> int | None:
    raw = request.form.get(name, "")
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


def _refused(number: str, exc: Exception, form: str, held=None):
    """The page again, with what was typed in ``form`` kept and ``exc`` said.

    Sent without a reload (htmx), this page replaces the one on screen: its
    ``HX-Replace-Url`` makes the address the ticket's page, not the form's
    (a POST-only address). Browsers ignore the header otherwise."""
    page, status = render_page(ticket_by_number(number), console_staff(), refusal=exc, form=form,
                               values=request.form, seen=_int("seen"), held=held)
    return page, status, {"HX-Replace-Url": url_for("console_ticket.show", number=number)}


@bp.route("/<number>")
@require_staff("agent", "finance")
def show(number):
    """One ticket with everything an agent works with (``?activity=`` filters the activity strip)."""
    ticket, staff = ticket_by_number(number), console_staff()
    # One commit: seen now (its notices read), and colleagues see this viewer
    # at once, not after the first poll.
    with UnitOfWork() as uow:
        mark_seen(staff, ticket)
        presence.mark(ticket.id, staff.id)
        uow.commit()
    return render_page(ticket, staff)


@bp.route("/<number>/remedy", methods=["POST"])
@require_staff("supervisor", "finance")
def remedy(number):
    """Approve or refuse the remedy that waits for this staff member's approval (with the reason)."""
    decision = request.form.get("decision", "")
    try:
        reason = _checked(RemedyDecisionIn(only=("reason",)), {"reason": request.form.get("reason", "")})["reason"]
        remedies.decide_remedy(number, decision, reason, _int("version"), console_staff())
    except KefuError as exc:
        return _refused(number, exc, "remedy")
    flash(_("Remedy approved.") if decision == "approved" else _("Remedy refused."), "ok")
    return _back(number)


@bp.route("/<number>/transition", methods=["POST"])
@require_staff("agent")
def transition(number):
    """One workflow step (the form names the action and its fields);
    cancelling needs the form's confirmation box ticked."""
    action = request.form.get("action", "")
    values = {k: request.form.get(k) for k in ("department", "resolution", "reason") if request.form.get(k)}
    try:
        if action == "cancel" and request.form.get("confirm_cancel") != "yes":
            raise ValidationFailed("cancelling needs a confirmation",
                                   {"confirm_cancel": ["tick the box to confirm"]})
        _checked(TransitionIn(only=("department", "resolution", "reason")), values)
        _ticket, followup = tickets.transition(number, action, _int("version"), values,
                                               Actor.staff(console_staff()))
    except _REFUSALS as exc:
        return _refused(number, exc, f"do-{action}")
    flash(_("Done: %(action)s.", action=label("action", action)), "ok")
    return _back(followup.number if followup is not None else number)


@bp.route("/<number>/messages", methods=["POST"])
@require_staff("agent")
def message(number):
    """A public reply or an internal note, with files, and optionally a step
    in the same submit (``send``: reply, resolve, wait or note)."""
    # Strictly a known button, or (older forms, scripts) a yes-or-no
    # ``internal``: a value the form never sends must not turn an internal
    # note into a reply the customer reads.
    send = request.form.get("send")
    form = {"body": request.form.get("body", ""),
            "internal": request.form.get("internal", "0") if send is None else "1" if send == "note" else "0"}
    staff, ticket = console_staff(), ticket_by_number(number)
    # The files kept from a refused try (ticked boxes) and the ones chosen now,
    # kept again when this try is refused too (service.usecases.held_uploads).
    kept = held_uploads.KeptFiles(ticket, staff)
    sent = [(f.filename, f.mimetype, f.stream) for f in request.files.getlist("files") if f and f.filename]
    try:
        if send is not None and send not in SEND:
            raise ValidationFailed("unknown button", {"send": [f"must be one of {', '.join(SEND)}"]})
        data = _checked(MessageIn(), form)
        send = send or ("note" if data["internal"] else "reply")
        with kept.around(request.form.getlist("held"), sent) as files:
            messages.reply(ticket, data["body"], Actor.staff(staff), internal=data["internal"],
                           then=send if send in messages.REPLY_THEN else None, version=_int("version"), files=files)
    except _REFUSALS as exc:
        return _refused(number, exc, "reply", held=kept.held)
    done = {"note": _("Note added."), "resolve": _("Reply sent and ticket resolved."),
            "wait": _("Reply sent; the ticket waits for the customer.")}
    flash(done.get(send, _("Reply sent.")), "ok")
    return _back(number, "#reply")


@bp.route("/<number>/presence", methods=["GET", "POST"])
@require_staff("agent", "finance")
def presence_poll(number):
    """Who else has the ticket open, as an HTML fragment; marks the viewer
    (POST ``state``: viewing, replying, or gone when the page closes)."""
    ticket, staff = ticket_by_number(number), console_staff()
    state = request.form.get("state", "viewing") if request.method == "POST" else "viewing"
    if state == "gone":
        presence.leave(ticket.id, staff.id)
        return "", 204
    presence.mark(ticket.id, staff.id, state)
    return render_template("web/console/_presence.html", others=presence.colleagues(ticket.id, staff.id))


@bp.route("/<number>/attachments/<int(max=2147483647):attachment_id>")
@require_staff("agent", "finance")
def attachment(number, attachment_id):
    """A file of the ticket, as a download (never shown inline), streamed
    from the attachment store: 404 when missing there, 503 while the store
    cannot be reached."""
    found = listing.ticket_attachment(ticket_by_number(number), attachment_id)
    response = send_file(messages.open_attachment(found), mimetype=found.content_type,
                         as_attachment=True, download_name=found.filename)
    response.content_length = found.size
    # send_file marks it no-cache; a customer's file must not be kept at all.
    response.headers["Cache-Control"] = "no-store"
    return response


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
        tickets.update_ticket(number, _int("version"), changes, Actor.staff(console_staff()))
    except KefuError as exc:
        return _refused(number, exc, "edit")
    flash(_("Saved."), "ok")
    return _back(number)
