"""The console's queues: my tickets, my department, unassigned, at risk, all;
with filters, search and counts."""
from __future__ import annotations

from flask import Blueprint, abort, current_app, render_template, request
from sqlalchemy import select

from service.domain.errors import ValidationFailed
from service.domain.workflow import STATUSES
from service.extensions import db
from service.models import KINDS, PRIORITIES, Category, Department
from service.models.base import utcnow
from service.web.pages import register_error_pages
from service.web.queues import QUEUES, queue_counts, queue_page, visible_queues
from service.web.session import console_staff, load_console_staff, require_staff

bp = Blueprint("console_queues", __name__, url_prefix="/console")
bp.before_request(load_console_staff)
register_error_pages(bp)


def _filters() -> dict:
    args = request.args
    return {
        "status": [s for s in args.getlist("status") if s in STATUSES],
        "priority": [p for p in args.getlist("priority") if p in PRIORITIES],
        "kind": [k for k in args.getlist("kind") if k in KINDS],
        "category": args.get("category") or None,
        "department": args.get("department") or None,
        "q": (args.get("q") or "").strip()[:200] or None,
    }


@bp.route("/")
@bp.route("/queue/<name>")
@require_staff("agent", "finance")
def queue(name=None):
    """One queue, filtered and searched, with the count of every queue the staff member sees."""
    staff = console_staff()
    shown = visible_queues(staff)
    name = name or shown[0]
    if name not in QUEUES:
        abort(404)
    if name not in shown:
        abort(403)
    filters = _filters()
    page = request.args.get("page", "1")
    page = int(page) if page.isdigit() and 0 < int(page) < 10_000 else 1
    try:
        tickets, more = queue_page(name, staff, filters, page, current_app.config["CONSOLE_PAGE_SIZE"])
    except ValidationFailed:  # an unknown category or department code in the address
        tickets, more = [], False
    return render_template(
        "web/console/queue.html", name=name, queues=shown, counts=queue_counts(staff), tickets=tickets,
        more=more, page=page, filters=filters, now=utcnow(),
        args={k: v for k, v in request.args.lists() if k != "page"}, statuses=STATUSES, priorities=PRIORITIES, kinds=KINDS,
        categories=db.session.scalars(select(Category).order_by(Category.position, Category.id)).all(),
        departments=db.session.scalars(select(Department).order_by(Department.id)).all())
