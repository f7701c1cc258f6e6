"""The console's frame: what every console page's header and sidebar need.

The sidebar lists the queues the signed-in staff member sees, with their
counts, their saved views, the workspace's pages and the plugins' links;
the keyboard help follows every page. ``console_sidebar`` and
``console_help`` are Jinja globals (``init_app``), called by
``web/console/layout.html`` once per page; both are drawn through
``service.web.fragments``, once per distinct content.

Counting the queues costs one query per queue on every console page, so the
counts are kept on the request: a page that counts them itself (the queue
page) and the layout share one count (``queue_counts_once``).
"""
from __future__ import annotations

from flask import Flask, has_request_context, request, url_for
from markupsafe import Markup

from service.models import Staff
from service.reads.panels import console_links
from service.translate import lazy_gettext as _l
from service.web.fragments import render_fragment
from service.web.queues import queue_counts, visible_queues
from service.web.saved_views import saved_views_for

# The queues' names as the sidebar shows them (the queue page's headings say the same).
QUEUE_LABELS = {
    "mine": _l("My tickets"), "department": _l("My department"), "unassigned": _l("Unassigned"),
    "at_risk": _l("At risk / overdue"), "all": _l("All tickets"), "remedies": _l("Remedies to approve"),
}


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


def console_sidebar(staff: Staff) -> Markup:
    """The sidebar of ``staff`` on this page, as HTML: the queues with their
    counts, the saved views, the workspace's pages for their role and the
    plugins' links (``console_links``).

    Its data is gathered here on every page (the counts, views and links
    may change between any two pages); drawing it is kept per distinct data
    by ``service.web.fragments``, so a page drawn with the same data as an
    earlier one costs no template work.
    """
    views = saved_views_for(staff)
    full_path = request.full_path.rstrip("?")
    return render_fragment(
        "web/console/_sidebar.html",
        queues=sidebar_queues(staff),
        here=current_queue(),
        views=views,
        current_view=next((v["url"] for v in views if v["url"] == full_path), None),
        blueprint=request.blueprint,
        roles={"agent": staff.has_role("agent"), "customers": staff.has_role("agent") or staff.has_role("finance"),
               "supervisor": staff.has_role("supervisor"), "admin": staff.has_role("admin")},
        new_ticket=url_for("console_new.new") if staff.has_role("agent") else None,
        links=console_links(staff),
    )


def console_help() -> Markup:
    """The keyboard shortcuts' help dialog, as HTML (the same for everyone
    in a language, so drawn once per language)."""
    return render_fragment("web/console/_shortcut_help.html")


def init_app(app: Flask) -> None:
    """Make the frame's helpers Jinja globals."""
    app.jinja_env.globals.update(console_sidebar=console_sidebar, console_help=console_help)
