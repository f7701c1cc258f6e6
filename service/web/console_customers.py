"""The console's customers: the list (search, plugin filters, sorts) and the
profile (customer 360: contacts, plugin sections, complaint trend, tickets,
notes, contact edit). Merging two records is ``console_merge``.

Thin views: read (``service.reads.customers``), call the use case, render.
"""
from __future__ import annotations

import marshmallow as ma
from flask import Blueprint, flash, redirect, render_template, request, url_for

from service.api.schemas import CustomerPatch
from service.domain.errors import KefuError, ValidationFailed
from service.reads import customers as reads
from service.reads.lookup import customer_by_id, customer_for_profile
from service.translate import gettext as _
from service.usecases import customers as customer_cases
from service.usecases.customer_notes import NOTE_LIMIT, add_customer_note
from service.web.i18n import minute
from service.web.insights import complaint_trend
from service.web.pages import error_message, field_errors, register_error_pages
from service.web.panels import customer_sections
from service.web.session import console_staff, load_console_staff, require_staff

bp = Blueprint("console_customers", __name__, url_prefix="/console/customers")
bp.before_request(load_console_staff)
register_error_pages(bp)

CONTACT_FIELDS = ("name", "email", "phone", "language")


def _page_number() -> int:
    raw = request.args.get("page", "")
    return int(raw) if raw.isdigit() and 0 < int(raw) < 100_000 else 1


def shown_value(column: dict, value) -> str:
    """A plugin column's value as a cell shows it: its choice's label, a
    number grouped with two decimals, else the text ('' for none)."""
    if value is None:
        return ""
    for choice in column["choices"]:
        if choice["value"] == value:
            return str(choice["label"])
    if column["kind"] == "number" and isinstance(value, (int, float)):
        # Both languages group by thousands with a comma and a decimal point;
        # Python's format is a tenth of Babel's cost, on every cell of a page.
        return f"{value:,.2f}"
    return str(value)


@bp.route("")
@require_staff("agent", "finance")
def index():
    """The customer list: search, the plugins' filters, sorts, pages."""
    staff = console_staff()
    columns = reads.list_columns(staff)
    filters = {c["key"]: request.args.get(c["key"], "") for c in columns if c["choices"]}
    page = reads.list_customers(staff, request.args.get("q", ""), filters, request.args.get("sort", "newest"),
                                _page_number(), columns=columns)
    for row in page.rows:
        # Formatted here, not by a template call per cell (the ``minute`` filter's own function).
        row["last_contact_text"] = minute(row["last_contact"]) if row["last_contact"] else ""
        row["cells"] = [(c["key"], shown_value(c, row["columns"][c["key"]])) for c in page.columns]
    sorts = [("newest", _("Newest")), ("open", _("Open tickets")), ("last_contact", _("Last contact"))]
    sorts += [(c["key"], c["label"]) for c in page.columns if c["sortable"]]
    args = {"q": page.q, "sort": page.sort, **page.filters}
    return render_template("web/console/customers.html", page=page, sorts=sorts, args=args)


def _profile(customer, staff, errors=None, values=None, status=200):
    # The counts come first, in one statement: a list known to be empty is not read.
    trend = complaint_trend(customer.id, profile=True)
    return render_template(
        "web/console/customer.html", customer=customer, staff=staff, sections=customer_sections(customer, staff),
        tickets=reads.customer_tickets(customer.id) if trend["total"] else [], total_tickets=trend["total"],
        trend=trend, notes=reads.customer_notes(customer.id) if trend["notes"] else [],
        merged=reads.merged_records(customer.id) if trend["merged"] else [],
        errors=errors or {}, values=values or {f: getattr(customer, f) or "" for f in CONTACT_FIELDS},
        note_limit=NOTE_LIMIT), status


@bp.route("/<int(max=2147483647):customer_id>")
@require_staff("agent", "finance")
def show(customer_id):
    """One customer's profile; a merged record leads to the record kept."""
    # With the plugins' ``customer_columns`` for the profile, so their sections need no query of their own.
    customer = customer_for_profile(customer_id)
    if customer.merged_into_id is not None:
        flash(_("Customer %(id)s was merged into this record.", id=customer.id), "ok")
        return redirect(url_for(".show", customer_id=customer.merged_into_id))
    return _profile(customer, console_staff())


@bp.route("/<int(max=2147483647):customer_id>/notes", methods=["POST"])
@require_staff("agent")
def add_note(customer_id):
    """Add a note on the customer; an empty or overlong one is refused by field."""
    try:
        add_customer_note(customer_id, request.form.get("body", ""), console_staff())
    except ValidationFailed as exc:
        for reasons in field_errors(exc.fields).values():
            flash(_("Note: %(reason)s", reason=" ".join(reasons)), "error")
    else:
        flash(_("Note added."), "ok")
    return redirect(url_for(".show", customer_id=customer_id) + "#notes-h")


def _contact_data() -> dict:
    data = {f: request.form.get(f, "").strip() for f in CONTACT_FIELDS}
    # An empty field clears an address or a number (the API's null).
    return {**data, "email": data["email"] or None, "phone": data["phone"] or None}


@bp.route("/<int(max=2147483647):customer_id>/contacts", methods=["POST"])
@require_staff("agent")
def edit_contacts(customer_id):
    """Change name, e-mail, phone and language with the API's rules; bad
    input re-renders the profile with the messages by field, nothing saved."""
    data = _contact_data()
    try:
        checked = CustomerPatch(partial=True).load(data)
    except ma.ValidationError as exc:
        return _profile(customer_by_id(customer_id), console_staff(), field_errors(exc.messages),
                        request.form, 422)
    try:
        customer_cases.update_customer(customer_id, checked)
    except KefuError as exc:
        if exc.status == 404:
            raise
        flash(error_message(exc), "error")
        return _profile(customer_by_id(customer_id), console_staff(), field_errors(exc.fields), request.form,
                        exc.status)
    flash(_("Contact details saved."), "ok")
    return redirect(url_for(".show", customer_id=customer_id))
