"""Admin pages: staff, departments, categories, plugins (with their settings
and failures), background jobs by state, and the pages plugins serve for
admins (SLA policy, webhooks, tier overrides: ``admin_pages`` hook).

Every page extends ``web/admin/layout.html``, whose navigation lists the
core's pages and the plugins' (``admin_nav``). Views are thin: read the form,
call the use case, re-render with the messages by field or redirect.
"""
from __future__ import annotations

import marshmallow as ma
from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from marshmallow import fields, validate
from sqlalchemy import select

from service.api.reference import StaffIn
from service.api.schemas import CategoryIn
from service.api.text import filled
from service.domain.errors import KefuError, ValidationFailed
from service.domain.workflow import STAFF_ROLES
from service.extensions import db
from service.hooks import failures, plugin_settings
from service.jobs import admin as job_admin
from service.models import Category, Department, Staff
from service.reads.panels import admin_pages
from service.translate import gettext as _
from service.usecases.categories import create_category, update_category
from service.usecases.departments import update_department
from service.usecases.staff import create_staff, update_staff
from service.web.pages import error_message, field_errors, register_error_pages
from service.web.session import console_staff, load_console_staff, require_staff

bp = Blueprint("admin", __name__, url_prefix="/console/admin")
bp.before_request(load_console_staff)
register_error_pages(bp)

# The core's admin pages, in the navigation's order: (endpoint, title).
CORE_PAGES = (
    ("admin.staff", "Staff"),
    ("admin.departments", "Departments"),
    ("admin.categories", "Categories"),
    ("admin.plugins", "Plugins"),
    ("admin.jobs", "Background jobs"),
)


def _core_titles() -> dict:
    # Spelled out so that extraction finds each title.
    return {"Staff": _("Staff"), "Departments": _("Departments"), "Categories": _("Categories"),
            "Plugins": _("Plugins"), "Background jobs": _("Background jobs")}


@bp.app_template_global()
def admin_nav() -> list[dict]:
    """The admin navigation for the page being shown: the core's pages, then
    each page a plugin lists through ``admin_pages`` (``title``, ``url``,
    ``summary``, ``plugin``; a failing or malformed answer is left out), each
    with ``current`` true for the page shown. Read once per request; empty
    for anyone but an admin."""
    if not hasattr(request, "kefu_admin_nav"):
        staff = console_staff()
        pages = []
        if staff is not None and staff.has_role("admin"):
            titles = _core_titles()
            pages = [{"key": endpoint, "title": titles[title], "url": url_for(endpoint), "summary": None,
                      "plugin": None} for endpoint, title in CORE_PAGES]
            pages += admin_pages(staff)
        for page in pages:
            page["current"] = request.path == page["url"] or request.path.startswith(page["url"].rstrip("/") + "/")
        request.kefu_admin_nav = pages
    return request.kefu_admin_nav


def _form(*names) -> dict:
    return {k: request.form.get(k, "").strip() for k in names}


def _errors(exc: Exception) -> dict:
    """Messages by field for a failed load or use case (``_`` for the form)."""
    if isinstance(exc, ma.ValidationError):
        return field_errors(exc.messages)
    return field_errors(exc.fields) or {"_": [error_message(exc)]}


@bp.route("/")
@require_staff("admin")
def index():
    """What admins manage: the core's pages and the plugins' (``admin_nav``)."""
    return render_template("web/admin/index.html")


# --------------------------------------------------------------------------- staff


@bp.route("/staff", methods=["GET", "POST"])
@require_staff("admin")
def staff():
    """Staff accounts, one row each with an edit link; create one (its API
    token is shown once)."""
    values, errors, token = {}, {}, None
    if request.method == "POST":
        values = _form("email", "name", "role", "department", "password")
        data = {k: v for k, v in values.items() if v}
        try:
            created, token = create_staff(**StaffIn().load(data))
        except (ma.ValidationError, KefuError) as exc:
            errors = _errors(exc)
        else:
            flash(_("Account created for %(email)s.", email=created.email), "ok")
            values = {}
    return render_template(
        "web/admin/staff.html", staff=db.session.scalars(select(Staff).order_by(Staff.name, Staff.id)).all(),
        departments=_departments(), roles=STAFF_ROLES, values=values, errors=errors, token=token), (
            422 if errors else 200)


def _departments(keep_id: int | None = None) -> list[Department]:
    # Active departments, and the one a row already has (a deactivated
    # department stays selectable for whoever is in it).
    return db.session.scalars(select(Department).where(Department.active.is_(True) | (Department.id == keep_id))
                              .order_by(Department.id)).all()


@bp.route("/staff/<int(max=2147483647):staff_id>", methods=["GET", "POST"])
@require_staff("admin")
def staff_edit(staff_id):
    """One account: its role, department and whether it may sign in. Saved,
    back to the list; refused (e.g. an admin demoting themselves), the form
    again with the reason."""
    member = db.session.get(Staff, staff_id)
    if member is None:
        abort(404)
    errors, values = {}, {"role": member.role, "department": member.department.code if member.department else "",
                          "active": "1" if member.active else "0"}
    if request.method == "POST":
        form = request.form
        values = {"role": form.get("role", ""), "department": form.get("department", ""),
                  "active": form.get("active", "")}
        try:
            changed = update_staff(staff_id, role=values["role"] or None, department=values["department"],
                                   active=values["active"] == "1" if values["active"] in ("0", "1") else None,
                                   actor_id=console_staff().id)
        except KefuError as exc:
            db.session.rollback()
            status = exc.status
            # The refusal in words, and the fields it names marked (an unknown
            # role or department is a forged form: the choices are offered).
            errors = {"_": [error_message(exc)], **{f: [_("Not one of the choices.")] for f in exc.fields
                                                    if f in values and isinstance(exc, ValidationFailed)}}
        else:
            flash(_("Saved: %(email)s.", email=changed.email), "ok")
            return redirect(url_for("admin.staff"))
    return render_template("web/admin/staff_edit.html", member=member, roles=STAFF_ROLES, values=values,
                           departments=_departments(member.department_id), errors=errors), (
                               status if errors else 200)


# --------------------------------------------------------------------------- categories and departments


class NamesIn(ma.Schema):
    """A category's or department's names and whether it is offered."""

    name = fields.String(required=True, validate=filled(120))
    name_zh = fields.String(validate=validate.Length(max=120), load_default=None)
    active = fields.Boolean(load_default=False)


def _names_form() -> dict:
    values = _form("name", "name_zh")
    values["active"] = "1" if request.form.get("active") == "1" else ""
    return values


def _load_names(values: dict) -> dict:
    data = {"name": values["name"], "active": values["active"] == "1"}
    if values["name_zh"]:
        data["name_zh"] = values["name_zh"]
    return NamesIn().load(data)


@bp.route("/categories", methods=["GET", "POST"])
@require_staff("admin")
def categories():
    """Categories (active or not), each with an edit link; add one."""
    values, errors = {}, {}
    if request.method == "POST":
        values = _form("code", "name", "name_zh")
        try:
            created = create_category(**CategoryIn().load({k: v for k, v in values.items() if v}))
        except (ma.ValidationError, KefuError) as exc:
            errors = _errors(exc)
        else:
            flash(_("Category %(code)s added.", code=created.code), "ok")
            return redirect(url_for("admin.categories"))
    return render_template("web/admin/categories.html",
                           categories=db.session.scalars(select(Category).order_by(Category.position,
                                                                                   Category.id)).all(),
                           values=values, errors=errors), (422 if errors else 200)


def _edit_names(row, update, template: str, back: str):
    """The edit page of a category or department (same form, same rules)."""
    if row is None:
        abort(404)
    errors = {}
    values = {"name": row.name, "name_zh": row.name_zh or "", "active": "1" if row.active else ""}
    if request.method == "POST":
        values = _names_form()
        try:
            data = _load_names(values)
            update(row.id, data["name"], data["name_zh"], data["active"])
        except (ma.ValidationError, KefuError) as exc:
            db.session.rollback()
            errors = _errors(exc)
        else:
            flash(_("Saved: %(name)s.", name=values["name"]), "ok")
            return redirect(url_for(back))
    return render_template(template, row=row, values=values, errors=errors), (422 if errors else 200)


@bp.route("/categories/<int(max=2147483647):category_id>", methods=["GET", "POST"])
@require_staff("admin")
def category_edit(category_id):
    """Rename a category (English and Chinese), deactivate or reactivate it."""
    return _edit_names(db.session.get(Category, category_id), update_category, "web/admin/category_edit.html",
                       "admin.categories")


@bp.route("/departments")
@require_staff("admin")
def departments():
    """Departments (active or not) and their supervisors, each with an edit link."""
    return render_template("web/admin/departments.html",
                           departments=db.session.scalars(select(Department).order_by(Department.id)).all())


@bp.route("/departments/<int(max=2147483647):department_id>", methods=["GET", "POST"])
@require_staff("admin")
def department_edit(department_id):
    """Rename a department (English and Chinese), deactivate or reactivate it."""
    return _edit_names(db.session.get(Department, department_id), update_department,
                       "web/admin/department_edit.html", "admin.departments")


# --------------------------------------------------------------------------- plugins and jobs


@bp.route("/plugins")
@require_staff("admin")
def plugins():
    """Every plugin, enabled or not, with its hooks and its declared settings
    (value in force, default or set; secrets masked); how to switch one off;
    how often each plugin's hooks failed (panels, charts, guards, ...)."""
    app = current_app._get_current_object()
    infos = app.extensions["kefu_plugins"].infos
    settings = {info.name: plugin_settings.described(app, info.name) for info in infos}
    return render_template("web/admin/plugins.html", plugins=infos, settings=settings,
                           disabled=app.config["DISABLED_PLUGINS"], failures=failures.counts())


@bp.route("/jobs")
@require_staff("admin")
def jobs():
    """Background jobs by state (scheduled, queued, running, retrying,
    failed) and the queue's failed jobs, each with a retry button."""
    return render_template("web/admin/jobs.html", summary=job_admin.summary(), states=job_admin.outbox_states(),
                           state_names=job_admin.OUTBOX_STATES)


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
