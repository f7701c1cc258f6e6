"""The account owner's page in the console, ``/console/accounts``: their
notices (new tickets, SLA breaches, bad survey answers, health changes and
care tickets of their customers), newest first, unread ones marked, and
the customers they own with each one's health level. A link in the
console's navigation (``console_links``) leads there, with the count of
unread notices, for staff who own customers or have notices: that count is
how an owner is told in the console (a mail goes too, ``owners.mail_job``).

Views are thin: read, call ``owners``, render or redirect.
"""
from __future__ import annotations

import functools

from flask import Blueprint, flash, redirect, render_template, url_for
from sqlalchemy import bindparam, exists, func, select

from service import sdk
from service.sdk import gettext as _

from .care_models import AccountOwner, OwnerNotice
from .models import CustomerHealth
from .owners import mark_all_read, mark_read, notices
from .texts import level_label

bp = Blueprint("relationship_health_accounts", __name__, url_prefix="/console/accounts",
               template_folder="templates")
sdk.console_page(bp)


@functools.cache
def _link_statement():
    # Unread notices and whether the staff member owns anyone, in one statement (both indexed by staff).
    me = bindparam("staff_id")
    unread = (select(func.count()).select_from(OwnerNotice)
              .where(OwnerNotice.staff_id == me, OwnerNotice.read_at.is_(None)).scalar_subquery())
    owns = exists().where(AccountOwner.staff_id == me)
    has_notice = exists().where(OwnerNotice.staff_id == me)
    return select(unread, owns, has_notice)


def link(staff) -> sdk.ConsoleLink | None:
    """The ``console_links`` answer: "My accounts" with the unread count, for
    staff who own a customer or have a notice; None for everyone else."""
    if staff is None or staff.role not in ("agent", "supervisor"):
        return None
    unread, owns, has_notice = sdk.read(_link_statement(), {"staff_id": staff.id}).one()
    if not owns and not has_notice:
        return None
    return {"key": "relationship_health_accounts", "label": _("My accounts"),
            "url": url_for("relationship_health_accounts.page"), "count": int(unread or 0)}


def _owned(staff) -> list:
    h = CustomerHealth.__table__
    return sdk.read(select(sdk.Customer.id, sdk.Customer.name, h.c.level, h.c.score)
                    .join(AccountOwner, AccountOwner.customer_id == sdk.Customer.id)
                    .outerjoin(h, h.c.customer_id == sdk.Customer.id)
                    .where(AccountOwner.staff_id == staff.id).order_by(sdk.Customer.name)).all()


@bp.route("", methods=["GET"])
@sdk.require_console_role("agent")
def page():
    """The signed-in owner's notices and customers."""
    staff = sdk.console_staff()
    found = notices(staff)
    customers = [{"id": c.id, "name": c.name, "level": level_label(c.level) or _("Not computed yet"),
                  "score": c.score} for c in _owned(staff)]
    return render_template("relationship_health/accounts.html", staff=staff, notices=found, customers=customers,
                           unread=sum(1 for n in found if n["read_at"] is None))


@bp.route("/notices/<int(max=2147483647):notice_id>/read", methods=["POST"])
@sdk.require_console_role("agent")
def read_one(notice_id):
    """Mark one of the owner's notices read (404 for another's)."""
    mark_read(sdk.console_staff(), notice_id)
    return redirect(url_for(".page") + "#notices")


@bp.route("/notices/read", methods=["POST"])
@sdk.require_console_role("agent")
def read_all():
    """Mark every unread notice of the owner read."""
    marked = mark_all_read(sdk.console_staff())
    flash(_("%(count)s notices marked read.", count=marked), "ok")
    return redirect(url_for(".page") + "#notices")
