"""The console's queues: my tickets, my department, unassigned, at risk, all;
with filters, search and counts."""
from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

from flask import Blueprint, abort, current_app, render_template, request, url_for
from sqlalchemy import select

from service.domain.errors import ValidationFailed
from service.domain.workflow import STATUSES
from service.extensions import db
from service.hooks import ticket_codes
from service.models import PRIORITIES, Category, Department
from service.models.base import utcnow
from service.translate import gettext as _
from service.web.i18n import is_chinese, label, local_name
from service.web.pages import register_error_pages
from service.web.queue_flags import queue_row_flags
from service.web.queues import QUEUES, queue_counts, queue_page, visible_queues
from service.web.session import console_staff, load_console_staff, require_staff

bp = Blueprint("console_queues", __name__, url_prefix="/console")
bp.before_request(load_console_staff)
register_error_pages(bp)


def _day(text: str | None, days: int = 0) -> datetime | None:
    # A day from the address as the aware UTC start of that day (plus ``days``); None when not a date.
    try:
        day = date.fromisoformat((text or "").strip())
    except ValueError:
        return None
    return datetime(day.year, day.month, day.day, tzinfo=timezone.utc) + timedelta(days=days)


def _filters() -> dict:
    """The page's filters from the address; values that are not valid are left out.
    ``created_from`` / ``created_to`` are days (UTC, ``created_to`` included)."""
    args = request.args
    return {
        "status": [s for s in args.getlist("status") if s in STATUSES],
        "priority": [p for p in args.getlist("priority") if p in PRIORITIES],
        "kind": [k for k in args.getlist("kind") if k in ticket_codes.kinds()],
        "category": args.get("category") or None,
        "department": args.get("department") or None,
        "q": (args.get("q") or "").strip()[:200] or None,
        "created_from": _day(args.get("created_from")),
        "created_to": _day(args.get("created_to"), days=1),
    }


def _chips(name: str, filters: dict, categories, departments) -> list[dict]:
    """The filters in use as removable chips: ``{"text", "remove"}``, where
    ``remove`` is this queue's address without that one filter value."""
    names = {"category": {c.code: local_name(c) for c in categories},
             "department": {d.code: local_name(d) for d in departments}}
    fields = {"status": _("Status"), "priority": _("Priority"), "kind": _("Kind"), "category": _("Category"),
              "department": _("Department"), "q": _("Search"), "created_from": _("Created from"),
              "created_to": _("Created up to")}
    pairs = [(k, v) for k, values in request.args.lists() if k in fields for v in values if v]
    chips = []
    for key, value in pairs:
        if key in ("status", "priority", "kind"):
            if value not in filters[key]:
                continue
            shown = label(key, value)
        elif key in names:
            if value not in names[key]:
                continue
            shown = names[key][value]
        elif key in ("created_from", "created_to"):
            if filters[key] is None:
                continue
            shown = value.strip()
        else:
            shown = filters["q"]
        rest = [(k, v) for k, v in pairs if (k, v) != (key, value)]
        args = {}
        for k, v in rest:
            args.setdefault(k, []).append(v)
        colon = "：" if is_chinese() else ": "  # punctuation of the page's language
        chips.append({"text": f"{fields[key]}{colon}{shown}", "key": key,
                      "remove": url_for("console_queues.queue", name=name, **args)})
    return chips


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
    categories = db.session.scalars(select(Category).order_by(Category.position, Category.id)).all()
    departments = db.session.scalars(select(Department).order_by(Department.id)).all()
    return render_template(
        "web/console/queue.html", name=name, queues=shown, counts=queue_counts(staff), tickets=tickets,
        more=more, page=page, filters=filters, now=utcnow(), chips=_chips(name, filters, categories, departments),
        dates={k: (request.args.get(k) or "").strip()[:10] if filters[k] else "" for k in ("created_from", "created_to")},
        args={k: v for k, v in request.args.lists() if k != "page"}, statuses=STATUSES, priorities=PRIORITIES, kinds=ticket_codes.kinds(),
        categories=categories, departments=departments, row_flags=queue_row_flags(staff, tickets))
