"""The console's notices: the bell's count (on every console page) and the
list at ``/console/notifications``, with "mark read" and "mark all read".

Opening a notice goes to its ticket; the ticket page marks the staff
member's notices about it read (``mark_seen``). Each person sees and
changes only their own notices.
"""
from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for

from service.reads.notifications import notices, unread_count
from service.translate import gettext as _
from service.translate import lazy_gettext
from service.usecases.notifications import mark_read
from service.web.pages import register_error_pages
from service.web.session import console_staff, load_console_staff, require_staff

bp = Blueprint("console_notifications", __name__, url_prefix="/console/notifications")
bp.before_request(load_console_staff)
register_error_pages(bp)

# What each kind of notice says; ``who`` is the person who caused it.
SENTENCES = {
    "customer_replied": lazy_gettext("%(who)s replied"),
    "customer_rejected": lazy_gettext("%(who)s rejected the resolution"),
    "bad_survey_answer": lazy_gettext("The customer answered the satisfaction survey poorly"),
    "assigned": lazy_gettext("%(who)s assigned the ticket to you"),
    "sla_warning": lazy_gettext("A service-level target falls due soon"),
    "sla_breach": lazy_gettext("A service-level target was missed"),
    "sla_takeover": lazy_gettext("A service-level target was missed; the supervisor takes the ticket over"),
}


def sentence(notice) -> str:
    """The notice as a sentence in the page's language (never its kind's code)."""
    who = notice.actor or _("The system")
    text = SENTENCES.get(notice.kind)
    return str(text) % {"who": who} if text is not None else _("The ticket changed")


@bp.app_template_global("unread_notifications")
def unread_notifications(staff) -> int:
    """The bell's count for ``staff`` (0 for nobody): one COUNT query."""
    return unread_count(staff)


@bp.route("", methods=["GET"])
@require_staff("agent", "finance")
def index():
    """The signed-in staff member's notices, newest first, 50 a page."""
    staff = console_staff()
    before = request.args.get("before", type=int)
    rows = notices(staff, before=before)
    return render_template("web/console/notifications.html", notices=rows, sentence=sentence,
                           more=rows[-1].id if len(rows) == 50 else None)


@bp.route("/<int:notice_id>/read", methods=["POST"])
@require_staff("agent", "finance")
def read_one(notice_id):
    """Mark one of the signed-in staff member's notices read (another's: nothing changes)."""
    mark_read(console_staff(), ids=[notice_id])
    return redirect(url_for("console_notifications.index"))


@bp.route("/read", methods=["POST"])
@require_staff("agent", "finance")
def read_all():
    """Mark every notice of the signed-in staff member read."""
    if mark_read(console_staff()):
        flash(_("All notices marked read."), "ok")
    return redirect(url_for("console_notifications.index"))
