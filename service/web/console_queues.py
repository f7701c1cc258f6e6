"""The console's queues: my tickets, my department, unassigned, at risk, all;
with multi-value filters, sortable columns, a count and pages, the staff
member's saved views and a bulk-action form over the selected rows."""
from __future__ import annotations

from urllib.parse import urlencode

from flask import Blueprint, abort, render_template, request
from sqlalchemy import select

from service.domain.workflow import STATUSES, allowed_actions
from service.extensions import db
from service.hooks import ticket_codes
from service.models import PRIORITIES, Category, Department, Staff
from service.models.base import utcnow
from service.reads.sla_state import sla_state
from service.translate import gettext as _
from service.web import queue_args
from service.web.i18n import label, local_name
from service.web.pages import register_error_pages
from service.web.queue_flags import queue_row_flags
from service.web.console_frame import queue_counts_once
from service.web.queues import (
    QUEUES,
    queue_page,
    ticket_tiers,
    visible_queues,
)
from service.web.saved_views import views_on_page
from service.web.session import console_staff, load_console_staff, require_staff

bp = Blueprint("console_queues", __name__, url_prefix="/console")
bp.before_request(load_console_staff)
register_error_pages(bp)


def bulk_choices(staff: Staff, tickets) -> dict:
    """What the bulk form offers for ``tickets`` (one page): ``rows``
    (``{ticket id: [actions staff may take on it]}``), ``actions`` (every
    action allowed on some row, in the workflow's order) and ``common``
    (those allowed on every row: the ones offered without a script, which
    narrows them to the checked rows)."""
    rows = {t.id: allowed_actions(t.status, "staff", staff.role) for t in tickets}
    every = [a for a in dict.fromkeys(a for acts in rows.values() for a in acts)]
    common = [a for a in every if all(a in acts for acts in rows.values())]
    return {"rows": rows, "actions": every, "common": common}


def filter_groups(statuses, categories, departments, people, tiers) -> list[tuple]:
    """The multi-value filters as the page draws them: ``(key, title,
    [(value, label)])``, every label translated."""
    return [
        ("status", _("Status"), [(s, label("status", s)) for s in statuses]),
        ("priority", _("Priority"), [(p, label("priority", p)) for p in PRIORITIES]),
        ("kind", _("Kind"), [(k, label("kind", k)) for k in ticket_codes.kinds()]),
        ("category", _("Category"), [(c.code, local_name(c)) for c in categories]),
        ("department", _("Department"), [(d.code, local_name(d)) for d in departments]),
        ("assignee", _("Assignee"), [(queue_args.NOBODY, _("Nobody"))]
         + [(str(p.id), p.name) for p in people if p.has_role("agent")]),
        ("tier", _("Tier"), [(t, label("tier", t)) for t in tiers]),
        ("channel", _("Channel"), [(c, label("channel", c)) for c in ticket_codes.channels()]),
    ]


def table_context(staff: Staff) -> dict:
    """What the ticket table (``web/console/_ticket_table.html``) needs beside its rows."""
    return {"now": utcnow(), "sla_state": sla_state}


@bp.route("/")
@bp.route("/queue/<name>")
@require_staff("agent", "finance")
def queue(name=None):
    """One queue, filtered, sorted and paged, with the count of every queue
    the staff member sees, their saved views and (agents) the bulk form."""
    staff = console_staff()
    shown = visible_queues(staff)
    name = name or shown[0]
    if name not in QUEUES:
        abort(404)
    if name not in shown:
        abort(403)
    categories = db.session.scalars(select(Category).order_by(Category.position, Category.id)).all()
    departments = db.session.scalars(select(Department).order_by(Department.id)).all()
    people = db.session.scalars(select(Staff).where(Staff.active.is_(True)).order_by(Staff.name)).all()
    tiers = ticket_tiers()
    filters = queue_args.read_filters(categories, departments, [p.id for p in people], tiers)
    view = queue_args.read_view(name)
    query = {k: v for k, v in filters.items() if k != "selected"}
    counts = queue_counts_once(staff)  # the sidebar's, counted once per page
    # Without filters of its own the page holds the queue's count: no second count.
    known = counts.get(name) if not any(v for k, v in query.items()) else None
    tickets, total = queue_page(name, staff, query, view["page"], view["size"],
                                view["sort"] if view["explicit"] else None, view["dir"], known)
    staff_names = {p.id: p.name for p in people}
    return render_template(
        "web/console/queue.html", name=name, queues=shown, counts=counts, tickets=tickets,
        total=total, view=view, filters=filters, selected=filters["selected"],
        chips=queue_args.chips(name, filters, categories, departments, staff_names),
        sorts=queue_args.sort_links(name, view), pager=queue_args.pager(name, view, total),
        dates={k: (request.args.get(k) or "").strip()[:10] if filters[k] else "" for k in ("created_from", "created_to")},
        args=queue_args.current_args(), statuses=STATUSES, priorities=PRIORITIES, kinds=ticket_codes.kinds(),
        channels=ticket_codes.channels(), tiers=tiers, categories=categories, departments=departments,
        filter_groups=filter_groups(STATUSES, categories, departments, people, tiers),
        people=people, row_flags=queue_row_flags(staff, tickets), views=views_on_page(staff),
        saved_query=urlencode(queue_args.current_args(), doseq=True),
        bulk=bulk_choices(staff, tickets) if staff.has_role("agent") else None,
        select_all=request.args.get("select") == "all", **table_context(staff))
