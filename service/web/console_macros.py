"""The console's canned replies (macros): the management page (list, new,
edit, delete) and applying one from a ticket's reply box.

The picker (``web/console/_macro_picker.html``, included by the ticket
page) offers the macros the agent may use. With a script
(``static/macros.js``) "Insert" fetches the text rendered for the ticket
(this module's preview, as JSON) into the reply box, to be sent by the
ordinary reply form (the macro's actions are not taken then, and the note
says so); without one it opens the preview page, an editable copy with its
actions listed and a "Send" button that applies it. "Apply and send" applies it directly. Thin views: the rules are
``service.usecases.macros`` and ``service.reads.macros``.
"""
from __future__ import annotations

from flask import Blueprint, flash, jsonify, redirect, render_template, request, url_for
from sqlalchemy import select

from service.domain import placeholders
from service.domain.errors import Forbidden, KefuError, NotFound
from service.domain.workflow import IllegalTransition, MissingFields
from service.extensions import db
from service.models import PRIORITIES, Department
from service.reads import macros as reads
from service.translate import gettext as _
from service.usecases import macros
from service.web.i18n import label, local_name
from service.web.pages import error_message, field_errors, register_error_pages
from service.web.session import console_staff, load_console_staff, require_staff

bp = Blueprint("console_macros", __name__, url_prefix="/console")
bp.before_request(load_console_staff)
register_error_pages(bp)

FORM_FIELDS = ("name", "name_zh", "body_en", "body_zh", "scope", "department", "set_status", "set_priority", "set_department")


@bp.app_template_global("usable_macros")
def usable_macros(staff) -> list:
    """The macros ``staff`` may apply (for the ticket page's picker); none
    for staff who may not reply."""
    if staff is None or not staff.has_role("agent"):
        return []
    return reads.offered_macros(staff)


@bp.app_template_filter("macro_segments")
def macro_segments(text: str | None) -> list[tuple[str, str | None]]:
    """``text`` as ``(literal, placeholder or None)`` pairs, so a page can
    show the placeholders apart (as ``<code>``) from the words around them."""
    try:
        return [(literal, "{" + name + "}" if name is not None else None)
                for literal, name, _spec, _conv in placeholders.parse(text or "")]
    except ValueError:  # saved before the check, or typed just now: shown as it is
        return [(text or "", None)]


def placeholder_help() -> list[tuple[str, str]]:
    """``({name}, what it becomes)`` for every placeholder, in the page's language."""
    meanings = {"customer_name": _("the customer's name"), "ticket_number": _("the ticket's number"),
                "tracking_link": _("the link to the customer's tracking page"),
                "department": _("the responsible department, in the customer's language"),
                "agent_name": _("your name")}
    return [("{" + name + "}", meanings[name]) for name in placeholders.PLACEHOLDERS]


def action_text(kind: str, value: str) -> str:
    """One action of a macro as a person reads it."""
    if kind == "status":
        return _("Next step: %(step)s", step=label("action", value))
    if kind == "priority":
        return _("Priority: %(priority)s", priority=label("priority", value))
    department = db.session.scalar(select(Department).where(Department.code == value))
    return _("Department: %(name)s", name=local_name(department) if department else value)


def macro_actions(macro) -> list[str]:
    """The actions of ``macro``, as ``action_text`` words."""
    found = []
    if macro.set_priority:
        found.append(action_text("priority", macro.set_priority))
    if macro.set_department:
        found.append(action_text("department", macro.set_department.code))
    if macro.set_status:
        found.append(action_text("status", macro.set_status))
    return found


def _scopes(staff) -> list[tuple[str, str]]:
    scopes = [("personal", _("Only me"))]
    if staff.role in ("supervisor", "admin"):
        scopes += [("department", _("My department's team") if staff.role == "supervisor" else _("A department")),
                   ("all", _("Everyone"))]
    return scopes


def _translated(errors: dict, form: dict) -> dict[str, list[str]]:
    """The use case's field errors in the page's language; a body's
    placeholder problems each named with the placeholder."""
    out = field_errors({k: v for k, v in errors.items() if k not in ("body_en", "body_zh", "department", "scope")})
    words = {"unknown": _("Unknown placeholder %(name)s: use one of those listed."),
             "format": _("Placeholder %(name)s takes no format."),
             "brace": _("A single { or } : write {{ or }} for a brace itself.")}
    for key in ("body_en", "body_zh"):
        if key not in errors:
            continue
        reasons = [words[kind] % {"name": name} if kind != "brace" else words[kind]
                   for kind, name in placeholders.check(form.get(key, ""))]
        if macros.NO_TEXT in errors[key]:
            reasons.insert(0, _("Write the reply in English or Chinese, or both."))
        if any(r.startswith("Longer") for r in errors[key]):
            reasons.append(_("This is too long."))
        out[key] = reasons
    if "department" in errors:
        out["department"] = [_("Choose the department that shares it.") if macros.NO_DEPARTMENT in errors["department"]
                             else _("Not one of the choices.")]
    if "scope" in errors:
        out["scope"] = [_("Your role may not share macros this way.") if errors["scope"] == ["not allowed for your role"]
                        else _("Not one of the choices.")]
    return out


def _form(staff, macro=None, values=None, errors=None, status=200):
    if values is None:
        values = macros.current_values(macro) if macro is not None else {"scope": "personal", "active": True}
    departments = db.session.scalars(select(Department).where(Department.active.is_(True))
                                     .order_by(Department.id)).all()
    return render_template(
        "web/console/macro_form.html", macro=macro, values=values, errors=errors or {}, scopes=_scopes(staff),
        # Only an admin shares with another department than their own.
        departments=departments, share_departments=departments if staff.role == "admin" else [], statuses=macros.MACRO_ACTIONS,
        priorities=PRIORITIES, placeholders=placeholder_help()), status


def _submitted() -> dict:
    data = {key: request.form.get(key, "") for key in FORM_FIELDS}
    for key in ("department", "set_status", "set_priority", "set_department"):
        data[key] = data[key] or None
    data["active"] = request.form.get("active") == "1"
    return data


@bp.route("/macros")
@require_staff("agent")
def index():
    """The staff member's macros and the shared ones they may use or manage."""
    staff = console_staff()
    rows = [(m, reads.may_manage(staff, m), macro_actions(m)) for m in reads.listed_macros(staff)]
    return render_template("web/console/macros.html", rows=rows, placeholders=placeholder_help())


@bp.route("/macros/new", methods=["GET", "POST"])
@require_staff("agent")
def new():
    """The form for a new macro; errors by field in one round, nothing saved."""
    staff = console_staff()
    if request.method == "GET":
        return _form(staff)
    data = _submitted()
    try:
        macro = macros.create_macro(staff, data)
    except KefuError as exc:
        return _refused(staff, None, exc, data)
    flash(_("Canned reply %(name)s saved.", name=local_name(macro)), "ok")
    return redirect(url_for(".index"))


def _refused(staff, macro, exc: KefuError, data: dict):
    if isinstance(exc, NotFound):
        raise exc
    flash(error_message(exc), "error")
    return _form(staff, macro, data, _translated(exc.fields, data), exc.status)


@bp.route("/macros/<int(max=2147483647):macro_id>", methods=["GET", "POST"])
@require_staff("agent")
def edit(macro_id):
    """Edit a macro the staff member may manage (with its version: a change
    meanwhile is a 409 that keeps what they typed)."""
    staff = console_staff()
    macro = reads.macro_for(staff, macro_id, manage=True)
    if request.method == "GET":
        return _form(staff, macro)
    data = _submitted()
    raw = request.form.get("version", "")
    try:
        macros.update_macro(staff, macro_id, int(raw) if raw.isdigit() and len(raw) < 10 else None, data)
    except KefuError as exc:
        db.session.rollback()
        return _refused(staff, reads.macro_for(staff, macro_id, manage=True), exc, data)
    flash(_("Canned reply %(name)s saved.", name=data["name"].strip()), "ok")
    return redirect(url_for(".index"))


@bp.route("/macros/<int(max=2147483647):macro_id>/delete", methods=["POST"])
@require_staff("agent")
def delete(macro_id):
    """Delete a macro the staff member may manage."""
    macros.delete_macro(console_staff(), macro_id)
    flash(_("Canned reply deleted."), "ok")
    return redirect(url_for(".index"))


@bp.route("/tickets/<number>/macros/<int(max=2147483647):macro_id>")
@require_staff("agent")
def preview(number, macro_id):
    """A macro rendered for the ticket, to edit and send (or, asked for
    JSON by the picker's script, the text and a note on its actions)."""
    applied = macros.preview(number, macro_id, console_staff())
    actions = [(action_text(kind, value), possible) for kind, value, possible in applied.actions]
    if request.accept_mimetypes.best == "application/json":
        note = (_("Inserted. Its actions (%(actions)s) are taken only by “Apply and send”.",
                  actions="; ".join(text for text, _possible in actions)) if actions else _("Inserted."))
        return jsonify(text=applied.text, language=applied.language, note=note)
    return _preview_page(applied, actions, applied.text)


def _preview_page(applied, actions, text, status=200, errors=None):
    return render_template("web/console/macro_preview.html", applied=applied, ticket=applied.ticket,
                           macro=applied.macro, actions=actions, text=text, errors=errors or {}), status


@bp.route("/tickets/<number>/macros/apply", methods=["POST"])
@require_staff("agent")
def apply(number):
    """Send a macro's reply and take its actions (the picker's "Apply and
    send", or the preview page's "Send" with the edited text). A refusal
    sends nothing: back to the ticket with the reason, or the preview page
    with the typed text kept. The picker's "Insert" (``do=insert``, no
    script) leads on to the preview page instead: one form, so no token
    ever rides in a URL."""
    staff = console_staff()
    raw, version = request.form.get("macro", ""), request.form.get("version", "")
    body = request.form.get("body")
    if not (raw.isdigit() and 0 < int(raw) < 2**31):
        flash(_("Choose a canned reply first."), "error")
        return redirect(url_for("console_ticket.show", number=number) + "#write-h")
    if request.form.get("do") == "insert":
        return redirect(url_for(".preview", number=number, macro_id=int(raw)), 303)
    try:
        macros.apply(number, int(raw), staff, int(version) if version.isdigit() and len(version) < 10 else None,
                     body)
    except (KefuError, IllegalTransition, MissingFields) as exc:
        if isinstance(exc, (NotFound, Forbidden)):
            raise
        db.session.rollback()
        flash(error_message(exc), "error")
        if body is None:
            return redirect(url_for("console_ticket.show", number=number) + "#write-h")
        applied = macros.preview(number, int(raw), staff)
        actions = [(action_text(kind, value), possible) for kind, value, possible in applied.actions]
        status = 422 if isinstance(exc, MissingFields) else 409 if isinstance(exc, IllegalTransition) else exc.status
        return _preview_page(applied, actions, body, status, field_errors(getattr(exc, "fields", None) or {}))
    flash(_("Reply sent."), "ok")
    return redirect(url_for("console_ticket.show", number=number) + "#timeline")
