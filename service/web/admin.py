"""Admin pages: staff, categories, departments, plugins, failed background jobs.

SLA policy and calendars and webhooks are managed through the API (JSON
documents a form would only copy); the overview page says where.
"""
from __future__ import annotations

import marshmallow as ma
from flask import (
    Blueprint,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from sqlalchemy import select

from service.api.reference import StaffIn
from service.api.schemas import CategoryIn
from service.domain.errors import KefuError
from service.domain.workflow import STAFF_ROLES
from service.extensions import db
from service.hooks import failures
from service.jobs import admin as job_admin
from service.models import Category, Department, Staff
from service.usecases.categories import create_category
from service.usecases.staff import create_staff, update_staff
from service.web.pages import error_message, field_errors, register_error_pages
from service.web.session import console_staff, load_console_staff, require_staff

bp = Blueprint("admin", __name__, url_prefix="/console/admin")
bp.before_request(load_console_staff)
register_error_pages(bp)


def _form(*names) -> dict:
    return {k: request.form.get(k, "").strip() for k in names}


@bp.route("/")
@require_staff("admin")
def index():
    """What admins manage here, and what through the API."""
    return render_template("web/admin/index.html")


@bp.route("/staff", methods=["GET", "POST"])
@require_staff("admin")
def staff():
    """Staff accounts; create one (its API token is shown once)."""
    values, errors, token = {}, {}, None
    if request.method == "POST":
        values = _form("email", "name", "role", "department", "password")
        data = {k: v for k, v in values.items() if v}
        try:
            created, token = create_staff(**StaffIn().load(data))
        except ma.ValidationError as exc:
            errors = field_errors(exc.messages)
        except KefuError as exc:
            errors = field_errors(exc.fields) or {"_": [error_message(exc)]}
        else:
            flash(_("Account created for %(email)s.", email=created.email), "ok")
            values = {}
    return render_template(
        "web/admin/staff.html", staff=db.session.scalars(select(Staff).order_by(Staff.id)).all(),
        departments=db.session.scalars(select(Department).order_by(Department.id)).all(), roles=STAFF_ROLES,
        values=values, errors=errors, token=token), (422 if errors else 200)


@bp.route("/staff/<int(max=2147483647):staff_id>", methods=["POST"])
@require_staff("admin")
def staff_update(staff_id):
    """Change one account's role, department or active flag."""
    form = request.form
    try:
        changed = update_staff(staff_id, role=form.get("role") or None, department=form.get("department"),
                               active=form.get("active") == "1" if "active" in form else None,
                               actor_id=console_staff().id)
    except KefuError as exc:
        flash(error_message(exc), "error")
    else:
        flash(_("Saved: %(email)s.", email=changed.email), "ok")
    return redirect(url_for("admin.staff"))


@bp.route("/categories", methods=["GET", "POST"])
@require_staff("admin")
def categories():
    """Categories; add one."""
    values, errors = {}, {}
    if request.method == "POST":
        values = _form("code", "name", "name_zh")
        try:
            created = create_category(**CategoryIn().load({k: v for k, v in values.items() if v}))
        except ma.ValidationError as exc:
            errors = field_errors(exc.messages)
        except KefuError as exc:
            errors = field_errors(exc.fields) or {"_": [error_message(exc)]}
        else:
            flash(_("Category %(code)s added.", code=created.code), "ok")
            return redirect(url_for("admin.categories"))
    return render_template("web/admin/categories.html",
                           categories=db.session.scalars(select(Category).order_by(Category.position,
                                                                                   Category.id)).all(),
                           values=values, errors=errors), (422 if errors else 200)


@bp.route("/departments")
@require_staff("admin")
def departments():
    """Departments and their supervisors."""
    return render_template("web/admin/departments.html",
                           departments=db.session.scalars(select(Department).order_by(Department.id)).all())


@bp.route("/plugins")
@require_staff("admin")
def plugins():
    """Every plugin, enabled or not, with its hooks; how to switch one off;
    how often each plugin's hooks failed (panels, charts, guards, ...)."""
    return render_template("web/admin/plugins.html", plugins=current_app.extensions["kefu_plugins"].infos,
                           disabled=current_app.config["DISABLED_PLUGINS"], failures=failures.counts())


@bp.route("/jobs")
@require_staff("admin")
def jobs():
    """Outbox counts and failed background jobs, each with a retry button."""
    return render_template("web/admin/jobs.html", summary=job_admin.summary())


@bp.route("/jobs/<job_id>/retry", methods=["POST"])
@require_staff("admin")
def retry(job_id):
    """Put a failed job back on its queue."""
    try:
        job_admin.retry(job_id)
    except KefuError as exc:
        flash(error_message(exc), "error")
    else:
        flash(_("Job %(id)s is queued again.", id=job_id), "ok")
    return redirect(url_for("admin.jobs"))
