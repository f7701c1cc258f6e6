"""Saved queue views in the console: save the current view, rename, delete
(POST forms with CSRF), and the lists the queue page and the sidebar show.

The rules (who shares, who changes a shared view) are the use case's
(``service.usecases.saved_views``); this module reads forms and answers.
"""
from __future__ import annotations

from flask import Blueprint, flash, redirect, request, url_for
from sqlalchemy import or_, select

from service.domain.errors import KefuError
from service.extensions import db
from service.models import SavedView, Staff
from service.translate import gettext as _
from service.usecases import saved_views
from service.web.pages import (
    error_message,
    field_errors,
    register_error_pages,
    safe_next,
)
from service.web.queues import visible_queues
from service.web.session import console_staff, load_console_staff, require_staff

bp = Blueprint("saved_views", __name__, url_prefix="/console/views")
bp.before_request(load_console_staff)
register_error_pages(bp)


def _url(view: SavedView) -> str:
    path = url_for("console_queues.queue", name=view.queue)
    return f"{path}?{view.query}" if view.query else path


def views_on_page(staff: Staff) -> list[dict]:
    """The views ``staff`` sees, their own first, then the shared ones of
    others, each by name: ``{"id", "name", "url", "shared", "mine",
    "editable"}``. Views of queues the staff member no longer sees (a role
    changed) are left out."""
    shown = visible_queues(staff)
    rows = db.session.scalars(select(SavedView).where(or_(SavedView.staff_id == staff.id,
                                                          SavedView.shared.is_(True)))
                              .order_by(SavedView.name, SavedView.id)).all()
    rows = sorted(rows, key=lambda v: v.staff_id != staff.id)  # stable: by name within each group
    return [{"id": v.id, "name": v.name, "url": _url(v), "shared": v.shared, "mine": v.staff_id == staff.id,
             "editable": saved_views.may_change(staff, v)} for v in rows if v.queue in shown]


def saved_views_for(staff: Staff) -> list[dict]:
    """The saved views ``staff`` sees, for the sidebar: ``[{"name", "url",
    "shared"}]`` (their own first, then the shared ones; ``url`` opens the
    queue with the view's filters and sort)."""
    return [{"name": v["name"], "url": v["url"], "shared": v["shared"]} for v in views_on_page(staff)]


def _back(default: str | None = None):
    return redirect(safe_next(request.form.get("back"), default or url_for("console_queues.queue")))


def _failed(exc: KefuError):
    detail = "; ".join(" ".join(reasons) for reasons in field_errors(exc.fields).values())
    flash(error_message(exc) + (f" ({detail})" if detail else ""), "error")
    return _back()


def _view_id(raw: str) -> int:
    return int(raw) if raw.isdigit() and int(raw) < 2**31 else 0


@bp.route("", methods=["POST"])
@require_staff("agent", "finance")
def save():
    """Save the queue's current filters and sort under a name (``shared``: supervisors)."""
    staff = console_staff()
    try:
        view = saved_views.save_view(staff, request.form.get("name", ""), request.form.get("queue", ""),
                                     request.form.get("query", ""), request.form.get("shared") == "1",
                                     visible_queues(staff))
    except KefuError as exc:
        return _failed(exc)
    flash(_("View saved: %(name)s.", name=view.name), "ok")
    return redirect(_url(view))


@bp.route("/<view_id>/rename", methods=["POST"])
@require_staff("agent", "finance")
def rename(view_id):
    """Rename a saved view (its owner; a shared one also a supervisor)."""
    try:
        view = saved_views.rename_view(console_staff(), _view_id(view_id), request.form.get("name", ""))
    except KefuError as exc:
        return _failed(exc)
    flash(_("View renamed: %(name)s.", name=view.name), "ok")
    return _back()


@bp.route("/<view_id>/delete", methods=["POST"])
@require_staff("agent", "finance")
def delete(view_id):
    """Delete a saved view (its owner; a shared one also a supervisor)."""
    try:
        saved_views.delete_view(console_staff(), _view_id(view_id))
    except KefuError as exc:
        return _failed(exc)
    flash(_("View deleted."), "ok")
    return _back()
