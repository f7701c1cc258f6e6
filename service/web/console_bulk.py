"""Bulk actions from the queue page: the checked rows (number and version
each) and one action; every ticket goes through its own use case
(``service.usecases.bulk``), and the answer page lists the tickets changed
and those refused, each with the reason in the page's language."""
from __future__ import annotations

from flask import Blueprint, render_template, request, url_for

from service.api.schemas import TransitionIn
from service.domain.actors import Actor
from service.domain.errors import KefuError, StaleVersion, ValidationFailed
from service.domain.workflow import STAFF_ACTIONS
from service.translate import gettext as _
from service.usecases import bulk
from service.web.i18n import is_chinese, label
from service.web.pages import (
    error_message,
    field_errors,
    register_error_pages,
    safe_next,
)
from service.web.session import console_staff, load_console_staff, require_staff

bp = Blueprint("console_bulk", __name__, url_prefix="/console/bulk")
bp.before_request(load_console_staff)
register_error_pages(bp)


def reason_of(exc: Exception) -> str:
    """Why one ticket of a selection was not changed, in the page's language."""
    if isinstance(exc, StaleVersion):
        return _("Changed by someone else since the queue was shown; left as it is.")
    text = error_message(exc)
    fields = getattr(exc, "fields", None) or {}
    if fields:
        named = ", ".join(label("field", name) for name in field_errors(fields))
        text = f"{text} ({named})"
    return text


def _colon() -> str:
    return "：" if is_chinese() else ": "  # punctuation of the page's language


def _operation(form, staff) -> tuple[str, dict]:
    """The form's action and its values; ``assign_me`` is ``assignee`` set to
    the signed-in staff member, ``unassign`` to nobody."""
    action = form.get("action", "")
    values = {k: (form.get(k) or "").strip() or None for k in ("priority", "department", "category",
                                                               "reason", "resolution")}
    if action == "assign_me":
        return "assignee", {**values, "assignee": staff.id}
    if action == "unassign":
        return "assignee", {**values, "assignee": None}
    if action == "assignee":
        raw = form.get("assignee", "")
        if not raw.isdigit() or int(raw) >= 2**31:
            raise ValidationFailed("choose someone", {"assignee": ["required"]})
        values["assignee"] = int(raw)
    elif action in STAFF_ACTIONS:
        errors = TransitionIn(only=("department", "resolution", "reason")).validate(
            {k: values[k] for k in ("department", "resolution", "reason") if values[k]})
        if errors:
            raise ValidationFailed("invalid form", errors)
    return action, values


@bp.route("", methods=["POST"])
@require_staff("agent")
def apply():
    """Apply one action to the checked tickets; the page lists what was done and what was refused."""
    staff = console_staff()
    back = safe_next(request.form.get("back"), url_for("console_queues.queue"))
    try:
        items = bulk.parse_items(request.form.getlist("tickets"))
        operation, values = _operation(request.form, staff)
        outcomes = bulk.apply_to_each(items, operation, values, Actor.staff(staff))
    except KefuError as exc:
        return render_template("web/console/bulk_result.html", back=back, error=reason_of(exc), done=[],
                               refused=[], action=None, colon=_colon()), exc.status
    done = [o for o in outcomes if o.done]
    refused = [{"number": o.number, "reason": reason_of(o.error)} for o in outcomes if not o.done]
    shown = request.form.get("action", "")
    action = {"assign_me": _("Assign to me"), "unassign": _("Unassign"), "assignee": _("Assign to"),
              "priority": _("Set priority"), "department": _("Set department"),
              "category": _("Set category")}.get(shown) or label("action", shown)
    return render_template("web/console/bulk_result.html", back=back, error=None, done=done, refused=refused,
                           action=action, colon=_colon())
