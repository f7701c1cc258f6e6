"""The console's global search page (``GET /console/search?q=``), reached
from the header's search box: tickets by number, subject, text, customer
name, e-mail or phone, in the queue's table; a whole ticket number opens
that ticket at once."""
from __future__ import annotations

from flask import Blueprint, current_app, redirect, render_template, request, url_for

from service.extensions import db
from service.models import Ticket
from service.models.base import utcnow
from service.models.ticket import format_number
from service.reads.search import MAX_QUERY, count_tickets, exact_number, search_tickets
from service.reads.sla_state import sla_state
from service.web.pages import register_error_pages
from service.web.queue_flags import queue_row_flags
from service.web.session import console_staff, load_console_staff, require_staff

bp = Blueprint("console_search", __name__, url_prefix="/console")
bp.before_request(load_console_staff)
register_error_pages(bp)


@bp.route("/search")
@require_staff("agent", "finance")
def search():
    """Search results, a page at a time; an exact ticket number redirects to the ticket."""
    q = (request.args.get("q") or "").strip()[:MAX_QUERY]
    ticket_id = exact_number(q) if q else None
    if ticket_id is not None and db.session.get(Ticket, ticket_id) is not None:
        return redirect(url_for("console_ticket.show", number=format_number(ticket_id)))
    raw = request.args.get("page", "1")
    page = int(raw) if raw.isdigit() and 0 < int(raw) < 10_000 else 1
    size = current_app.config["CONSOLE_PAGE_SIZE"]
    tickets, more = search_tickets(q, page, size) if q else ([], False)
    # A count only when there is more than this page to count.
    cap = current_app.config["SEARCH_COUNT_CAP"]
    total = count_tickets(q, cap) if more or page > 1 else len(tickets)
    return render_template(
        "web/console/search.html", q=q, tickets=tickets, page=page, more=more, now=utcnow(),
        total=total, cap=cap,
        sla_state=sla_state, row_flags=queue_row_flags(console_staff(), tickets),
        first=(page - 1) * size + 1 if tickets else 0, last=(page - 1) * size + len(tickets))
