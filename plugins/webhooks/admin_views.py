"""The webhooks admin page in the console (admins only), listed on the
admin index through the ``admin_pages`` hook: ``/console/admin/webhooks``.

Register an endpoint (URL, events chosen from the list), see its signing
secret once (after registering or rotating: it is drawn into that one
answer, never put in the session or a redirect), change its address,
description and events, deactivate, reactivate or delete it (after a
confirmation), read its delivery log (status, attempts, last response code,
time) and redeliver a failed delivery. Each action goes through the use
case the admin API calls (``endpoints``), with the API's own input schemas.
"""
from __future__ import annotations

import marshmallow as ma
from flask import Blueprint, flash, redirect, render_template, request, url_for

from service import sdk
from service.sdk import gettext as _
from service.sdk import lazy_gettext as _l

from . import endpoints
from .api import EndpointCreate, EndpointPatch

bp = Blueprint("webhooks_admin", __name__, url_prefix="/console/admin/webhooks", template_folder="templates")
sdk.console_page(bp)

# The events offered as choices: the core's and those the builtin plugins
# publish (another plugin's events can be typed in by name).
EVENT_LABELS = {
    "ticket.created": _l("A ticket is filed"),
    "ticket.transitioned": _l("A ticket moves to another step"),
    "ticket.updated": _l("A ticket is edited (priority, category, department, assignee, tags, customer)"),
    "message.added": _l("A public reply or a customer's message is added"),
    "resolution.answered": _l("A customer accepts or rejects a resolution"),
    "sla.warning": _l("An SLA target is close"),
    "sla.breached": _l("An SLA target is missed"),
    "survey.answered": _l("A satisfaction survey is answered"),
    "customer.health_changed": _l("A customer's relationship health changes level"),
}
STATUS_LABELS = {"pending": _l("Waiting"), "delivered": _l("Delivered"), "failed": _l("Failed")}
LOG_LIMIT = 50


def pages() -> list[dict]:
    """The page for the ``admin_pages`` hook."""
    return [{"key": "webhooks", "title": _("Webhooks"), "url": url_for("webhooks_admin.index"),
             "summary": _("Signed HTTP calls to your systems when tickets change; delivery log.")}]


def _choices() -> list[dict]:
    known = list(dict.fromkeys([*sdk.CORE_EVENTS, *EVENT_LABELS]))
    return [{"code": e, "label": str(EVENT_LABELS.get(e, e))} for e in known]


def _events_from_form(form) -> list[str]:
    chosen = form.getlist("events")
    other = [e.strip() for e in (form.get("other_events") or "").replace("\n", ",").split(",") if e.strip()]
    return list(dict.fromkeys(chosen + other))


def _field_errors(messages: dict) -> dict:
    """The schema's messages as the page says them, by field."""
    out = {}
    for name, reasons in messages.items():
        text = " ".join(map(str, reasons)) if isinstance(reasons, list) else str(reasons)
        if name == "url":
            out["url"] = [_("This address is not allowed: it points into this network.") if "refused" in text
                          else _("Give the full address, starting with https:// or http://.")]
        elif name == "events":
            out["events"] = [_("Choose at least one event (at most 50); other events are named like "
                               "ticket.created.")]
        elif name == "description":
            out["description"] = [_("This is too long.")]
        else:
            out["_"] = [_("Please check the highlighted fields.")]
    return out


def _page(values=None, errors=None, secret_for=None, status=200):
    return render_template("webhooks/admin/index.html", endpoints=endpoints.all_endpoints(), events=_choices(),
                           values=values or {"events": []}, errors=errors or {}, secret_for=secret_for,
                           event_labels=EVENT_LABELS), status


@bp.route("/", methods=["GET", "POST"])
@sdk.require_console_role("admin")
def index():
    """The endpoints; POST registers one and shows its secret this once."""
    if request.method == "GET":
        return _page()
    values = _form_values(request.form)
    data = {"url": values["url"], "events": values["events"], "description": values["description"] or None}
    try:
        created = endpoints.register(EndpointCreate().load(data))
    except ma.ValidationError as exc:
        return _page(values, _field_errors(exc.messages), status=422)
    return _page(secret_for=created, status=201)


@bp.route("/<int(max=2147483647):endpoint_id>")
@sdk.require_console_role("admin")
def show(endpoint_id):
    """One endpoint and its delivery log, newest first."""
    return _detail(endpoints.endpoint(endpoint_id))


def _detail(row, secret=None, status=200, values=None, errors=None):
    deliveries, _next = endpoints.delivery_log(row.id, LOG_LIMIT, None, None)
    known = {c["code"] for c in _choices()}
    if values is None:  # the edit form starts from the endpoint as it is
        values = {"url": row.url, "description": row.description or "", "events": list(row.events),
                  "other_events": ", ".join(e for e in row.events if e not in known)}
    return render_template("webhooks/admin/endpoint.html", endpoint=row, deliveries=deliveries, secret=secret,
                           event_labels=EVENT_LABELS, status_labels=STATUS_LABELS, limit=LOG_LIMIT,
                           events=_choices(), values=values, errors=errors or {}), status


def _form_values(form) -> dict:
    return {"url": form.get("url", "").strip(), "events": _events_from_form(form),
            "description": form.get("description", "").strip(), "other_events": form.get("other_events", "")}


@bp.route("/<int(max=2147483647):endpoint_id>/edit", methods=["POST"])
@sdk.require_console_role("admin")
def edit(endpoint_id):
    """Change the endpoint's address, description and events (the API's
    PATCH rules); a refusal shows the form again with what was typed."""
    row = endpoints.endpoint(endpoint_id)
    values = _form_values(request.form)
    data = {"url": values["url"], "events": values["events"], "description": values["description"] or None}
    try:
        endpoints.change(endpoint_id, EndpointPatch().load(data))
    except ma.ValidationError as exc:
        return _detail(row, values=values, errors=_field_errors(exc.messages), status=422)
    flash(_("Saved."), "ok")
    return redirect(url_for("webhooks_admin.show", endpoint_id=endpoint_id))


@bp.route("/<int(max=2147483647):endpoint_id>/rotate", methods=["POST"])
@sdk.require_console_role("admin")
def rotate(endpoint_id):
    """A new signing secret, shown this once on the answer."""
    row = endpoints.rotate_secret(endpoint_id)
    return _detail(row, secret=row.secret)


@bp.route("/<int(max=2147483647):endpoint_id>/active", methods=["POST"])
@sdk.require_console_role("admin")
def set_active(endpoint_id):
    """Deactivate (no more deliveries) or reactivate an endpoint."""
    active = request.form.get("active") == "1"
    endpoints.change(endpoint_id, EndpointPatch().load({"active": active}))
    flash(_("The endpoint is active again.") if active else _("The endpoint is deactivated; no events go to it."),
          "ok")
    return redirect(url_for("webhooks_admin.show", endpoint_id=endpoint_id))


@bp.route("/<int(max=2147483647):endpoint_id>/delete", methods=["POST"])
@sdk.require_console_role("admin")
def delete(endpoint_id):
    """Delete an endpoint with its delivery log."""
    row = endpoints.endpoint(endpoint_id)
    url = row.url
    endpoints.delete(endpoint_id)
    flash(_("Deleted the endpoint %(url)s and its delivery log.", url=url), "ok")
    return redirect(url_for("webhooks_admin.index"))


@bp.route("/deliveries/<int(max=2147483647):delivery_id>/redeliver", methods=["POST"])
@sdk.require_console_role("admin")
def redeliver(delivery_id):
    """Queue a failed delivery again."""
    try:
        delivery = endpoints.redeliver(delivery_id)
    except sdk.Conflict as exc:
        flash(_("Only failed deliveries to an active endpoint are sent again.") if exc.fields else str(exc), "error")
        endpoint_id = int(request.form.get("endpoint_id") or 0)
        return redirect(url_for("webhooks_admin.show", endpoint_id=endpoint_id) if endpoint_id
                        else url_for("webhooks_admin.index"))
    flash(_("Delivery %(id)d is queued again.", id=delivery.id), "ok")
    return redirect(url_for("webhooks_admin.show", endpoint_id=delivery.endpoint_id))

