"""Read-only views the console shows beside a ticket: history events in
words (their details and who did them) and the customer panel (recent
tickets, whether their complaints are rising). The thread and the activity
strip are ``service.web.ticket_thread``."""
from __future__ import annotations

import functools
import re
from datetime import datetime, timedelta

from flask import current_app
from flask_babel import format_datetime
from sqlalchemy import bindparam, func, select

from service.extensions import db
from service.hooks.isolation import core_connection
from service.models import Customer, CustomerNote, Staff, Ticket
from service.models.base import utcnow
from service.web.i18n import known_label, label

_ISO = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}")


def shown_value(value, field: str) -> str:
    """``value`` of a history detail ``field`` as people read it (names, not codes)."""
    from service.models import Category, Department
    from service.translate import gettext as _
    from service.web.i18n import local_name

    if value is None:
        return "-"
    if isinstance(value, bool):
        return _("Yes") if value else _("No")
    if field in ("category", "department") and isinstance(value, str):
        model = Category if field == "category" else Department
        row = db.session.scalars(select(model).where(model.code == value)).first()
        return local_name(row) if row is not None else value
    if field == "assignee" and isinstance(value, int):
        staff = db.session.get(Staff, value)
        return staff.name if staff else f"#{value}"
    if isinstance(value, str) and _ISO.match(value):
        try:
            return format_datetime(datetime.fromisoformat(value), "yyyy-MM-dd HH:mm")
        except ValueError:
            return value
    if field in ("status", "from_status", "to_status"):
        return label("status", value)
    if field in ("priority", "kind", "channel") and isinstance(value, str):
        return label(field, value)
    if field == "decision" and isinstance(value, str):
        return label("remedy", value)
    if field == "approver" and isinstance(value, str):
        return label("role", value)
    if field == "policy" and isinstance(value, str):
        # A policy no plugin names is shown as its plugin's policy, never as its code.
        return known_label("policy", value) or _("Policy of %(plugin)s", plugin=label("plugin", value.split(":")[0]))
    if isinstance(value, str):
        # A code has a name (the core's, or a plugin's through ``code_label``); what people wrote has not.
        return known_label(field, value) or value
    return str(value)


# Details kept for the API and the record, not worth a line on the page: a
# refusal's machine code and kind (its message and the step say it all).
_INTERNAL_DETAILS = {"change_refused": frozenset({"code", "kind"})}
# Row ids: the page shows the message or file itself.
_IDS = frozenset({"message_id", "attachment_id"})


def event_details(event) -> list[tuple[str, str]]:
    """A history event's details as (label, text) rows: times in the viewer's
    time zone, staff ids as names, edits as ``old -> new``."""
    rows = []
    for key, value in (event.details or {}).items():
        if value in (None, "", [], {}) or key in _IDS or key in _INTERNAL_DETAILS.get(event.action, ()):
            continue
        if key == "tried_by" and isinstance(value, dict):  # a refused change: who tried it
            rows.append((label("field", key), str(value.get("name") or label("author", value.get("type")))))
        elif key == "action":
            rows.append((label("field", key), label("action", value)))
        elif key in ("changes", "fields") and isinstance(value, dict):
            for field, pair in value.items():
                old, new = pair if isinstance(pair, list) and len(pair) == 2 else (None, pair)
                rows.append((label("field", field), f"{shown_value(old, field)} → {shown_value(new, field)}"))
        else:
            rows.append((label("field", key), shown_value(value, key)))
    return rows


def actor_text(event) -> str:
    """Who did ``event``, as people read it: a staff member's or customer's
    name, a plugin's translated name, "System" for the core itself."""
    if event.actor_type == "plugin" and event.actor_name:
        return label("plugin", event.actor_name)
    if event.actor_type in ("staff", "customer") and event.actor_name:
        return event.actor_name
    return label("author", event.actor_type)


def customer_summary(customer: Customer, ticket: Ticket) -> dict:
    """The customer panel: their satisfaction class (``satisfaction_class``
    decider), their other recent tickets, their complaint counts
    over the last ``COMPLAINT_TREND_DAYS`` and the span before, and whether
    complaints are rising (more now than before, and at least two: one
    complaint after none is not a trend)."""
    recent = db.session.scalars(select(Ticket).where(Ticket.customer_id == customer.id, Ticket.id != ticket.id)
                                .order_by(Ticket.id.desc()).limit(5)).unique().all()
    # The class comes from whichever plugin derives it (the builtin survey plugin does).
    satisfaction = current_app.extensions["kefu_plugins"].decide("satisfaction_class", customer=customer)[0]
    return {"recent": recent, **complaint_trend(customer.id), "satisfaction_class": satisfaction}


@functools.cache
def _trend_statement(profile: bool = False):
    # Built once per shape: a reused statement keeps its memoized cache key.
    mine = (Ticket.customer_id == bindparam("customer_id"), Ticket.kind == "complaint")
    columns = [
        select(func.count()).select_from(Ticket).where(*mine, Ticket.created_at >= bindparam("since"))
        .scalar_subquery(),
        select(func.count()).select_from(Ticket).where(*mine, Ticket.created_at >= bindparam("before"),
                                                       Ticket.created_at < bindparam("since")).scalar_subquery(),
        select(func.count()).select_from(Ticket).where(Ticket.customer_id == bindparam("customer_id"))
        .scalar_subquery()]
    if profile:  # whether the profile's lists of notes and merged records need reading at all
        columns += [
            select(func.count()).select_from(CustomerNote).where(CustomerNote.customer_id == bindparam("customer_id"))
            .scalar_subquery(),
            select(func.count()).select_from(Customer).where(Customer.merged_into_id == bindparam("customer_id"))
            .scalar_subquery()]
    return select(*columns)


def complaint_trend(customer_id: int, profile: bool = False) -> dict:
    """The customer's complaints over the last ``COMPLAINT_TREND_DAYS``
    (``complaints_now``) and the span before (``complaints_before``),
    whether they are rising (more now than before, and at least two: one
    complaint after none is not a trend), ``days`` and their ``total``
    tickets; one statement, counted from the (customer, created_at, kind)
    index. With ``profile``, also how many ``notes`` the customer has and
    how many records were ``merged`` into it, in the same statement: the
    profile then skips reading lists it knows are empty."""
    days = current_app.config["COMPLAINT_TREND_DAYS"]
    now = utcnow()
    row = core_connection(db.session).execute(_trend_statement(profile), {
        "customer_id": customer_id, "since": now - timedelta(days=days),
        "before": now - timedelta(days=2 * days)}).one()
    current, before, total = row[:3]
    found = {"complaints_now": current, "complaints_before": before, "rising": current > before and current >= 2,
             "days": days, "total": total}
    if profile:
        found["notes"], found["merged"] = row[3:]
    return found
