"""The console's merge of a duplicate customer record into the one kept
(supervisors and admins): find the duplicate, confirm what moves, merge.
The merge itself is ``service.usecases.merging``."""
from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for

from service.domain.actors import Actor
from service.domain.errors import Conflict, KefuError
from service.reads import customers as reads
from service.reads.lookup import customer_by_id
from service.translate import gettext as _
from service.usecases import merging
from service.web.pages import error_message, register_error_pages
from service.web.session import console_staff, load_console_staff, require_staff

bp = Blueprint("console_merge", __name__, url_prefix="/console/customers")
bp.before_request(load_console_staff)
register_error_pages(bp)


def _merge_error(exc: KefuError) -> str:
    code = getattr(exc, "code", "")
    if code == "merge_into_itself":
        return _("A record cannot be merged into itself.")
    if code == "customer_merged":
        return _("One of these records was already merged into another.")
    if code == "plugin_failed":
        return _("Plugin %(name)s could not move its records; nothing was merged.", name=exc.extra.get("plugin"))
    return error_message(exc)


def _from_id() -> int | None:
    raw = request.values.get("from_customer_id", "").strip()
    return int(raw) if raw.isdigit() and 0 < int(raw) < 2**31 else None


@bp.route("/<int(max=2147483647):customer_id>/merge")
@require_staff("supervisor")
def choose(customer_id):
    """Find the duplicate to merge into this record (search, or its id), and
    with ``from_customer_id`` the confirmation: what the merge would move."""
    kept = customer_by_id(customer_id)
    if kept.merged_into_id is not None:
        return redirect(url_for(".choose", customer_id=kept.merged_into_id))
    q = request.args.get("q", "").strip()[:200]
    from_id, merged, moved, problem = _from_id(), None, None, None
    if from_id is not None:
        try:
            moved = merging.preview_merge(kept.id, from_id, Actor.staff(console_staff()))
            merged = customer_by_id(from_id)
        except KefuError as exc:
            if exc.status == 404:
                problem = _("There is no customer %(id)s.", id=from_id)
            else:
                problem = _merge_error(exc)
            moved = None
        kept = customer_by_id(customer_id)  # the preview's rollback expired it
    return render_template("web/console/customer_merge.html", kept=kept, q=q,
                           candidates=reads.find_duplicates(kept, q), merged=merged, moved=moved, problem=problem)


@bp.route("/<int(max=2147483647):customer_id>/merge", methods=["POST"])
@require_staff("supervisor")
def merge(customer_id):
    """Merge the confirmed duplicate into this record; back to its profile."""
    from_id = _from_id()
    try:
        if from_id is None:
            raise Conflict("no record chosen", code="no_record")
        _kept, moved = merging.merge_customers(customer_id, from_id, Actor.staff(console_staff()))
    except KefuError as exc:
        flash(_("No record was chosen to merge.") if exc.code == "no_record" else
              _("There is no customer %(id)s.", id=from_id) if exc.status == 404 else _merge_error(exc), "error")
        return redirect(url_for(".choose", customer_id=customer_id))
    flash(_("Customer %(id)s was merged into this record: %(what)s.", id=from_id,
            what=", ".join(f"{item['label']} {item['count']}" for item in moved if item["count"]) or "-"), "ok")
    return redirect(url_for("console_customers.show", customer_id=customer_id))
