"""The console's frame: what every console page's header and sidebar need.

The sidebar lists the queues the signed-in staff member sees, with their
counts, and their saved views; the header has the global search box. These
helpers are Jinja globals (``init_app``), called by
``web/console/layout.html`` once per page.

Counting the queues costs one query per queue on every console page, so the
counts are kept on the request: a page that counts them itself (the queue
page) and the layout share one count (``queue_counts_once``).
"""
from __future__ import annotations

from flask import Flask, current_app, has_request_context, request, url_for
from werkzeug.routing import BuildError

from service.models import Staff
from service.translate import lazy_gettext as _l
from service.web.queues import queue_counts, visible_queues

# The queues' names as the sidebar shows them (the queue page's headings say the same).
QUEUE_LABELS = {
    "mine": _l("My tickets"), "department": _l("My department"), "unassigned": _l("Unassigned"),
    "at_risk": _l("At risk / overdue"), "all": _l("All tickets"), "remedies": _l("Remedies to approve"),
}


def endpoint_url(endpoint: str, **values) -> str | None:
    """``url_for(endpoint, **values)`` when the app has that endpoint, else None.

    The frame links to pages that other parts of kefu (or a deployment
    without them) may not register; a missing one is left out of the page
    instead of failing every console page.
    """
    if endpoint not in current_app.view_functions:
        return None
    try:
        return url_for(endpoint, **values)
    except BuildError:  # registered, but needs values the frame does not have
        return None


def queue_counts_once(staff: Staff) -> dict[str, int]:
    """``service.web.queues.queue_counts(staff)``, counted at most once per request.

    Kept on the request (not on ``g``, which can outlive one request in
    tests and CLI code), keyed by the staff member.
    """
    if not has_request_context():
        return queue_counts(staff)
    cached = getattr(request, "kefu_queue_counts", None)
    if cached is None or cached[0] != staff.id:
        cached = (staff.id, queue_counts(staff))
        request.kefu_queue_counts = cached
    return cached[1]


def sidebar_queues(staff: Staff | None) -> list[dict]:
    """The sidebar's queue links for ``staff``: ``{"name", "label", "url", "count"}``
    in the order the queue page lists them; empty for nobody signed in."""
    if staff is None:
        return []
    names = visible_queues(staff)
    if not names:
        return []
    counts = queue_counts_once(staff)
    return [{"name": name, "label": QUEUE_LABELS[name], "count": counts.get(name, 0),
             "url": url_for("console_queues.queue", name=name)} for name in names]


def sidebar_views(staff: Staff | None) -> list:
    """The staff member's saved views (their own and the shared ones), each
    with at least ``name`` and ``url``; empty where saved views are not
    installed or nobody is signed in."""
    if staff is None:
        return []
    try:
        from service.web.saved_views import saved_views_for
    except ImportError:  # saved views arrive with the queue pages' own change
        return []
    return list(saved_views_for(staff) or [])


def current_queue() -> str | None:
    """The queue this page shows (its sidebar link is marked current), else None."""
    if not has_request_context() or request.endpoint != "console_queues.queue":
        return None
    name = (request.view_args or {}).get("name")
    if name:
        return name
    staff = getattr(request, "kefu_console_staff", None)
    shown = visible_queues(staff) if staff is not None else ()
    return shown[0] if shown else None


def init_app(app: Flask) -> None:
    """Make the frame's helpers Jinja globals."""
    app.jinja_env.globals.update(endpoint_url=endpoint_url, sidebar_queues=sidebar_queues,
                                 sidebar_views=sidebar_views, current_queue=current_queue)
