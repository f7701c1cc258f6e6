"""A new ticket for a caller, from the console: an agent on the phone, at
the counter, with a fax or a chat records the case (issue 16, item 4).

One page, ``/console/tickets/new``, that works without JavaScript:

* Search or create the customer inline. The "Find" button posts the form
  back (``step=find``) and the page comes again with the matches to pick,
  every typed value kept - a POST, not a GET, so the caller's words and
  contact details never land in a URL (logs, history; a long description
  would also pass a server's request-line limit). ``GET ?q=`` searches
  too, for a search made before anything was typed.
* Every error in one round, naming its field (422, values kept): the
  staff API's own schema (``TicketCreate``), the new customer's contact,
  the note, and each file refused with its reason.
* The ticket, the customer and the first note go in one transaction
  (``intake.open_for_caller``: the same opening as the API, so tiers,
  openers, SLA and remedy decisions apply); the files are kept after it,
  each on its own, so a file that fails then only costs itself - the
  ticket page says which and why.
"""
from __future__ import annotations

import secrets

import marshmallow as ma
from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import get_locale
from sqlalchemy import select

from service.api.public import IDEMPOTENCY_KEY
from service.api.schemas import MessageIn, TicketCreate
from service.domain.actors import Actor
from service.domain.errors import KefuError
from service.extensions import db
from service.hooks.ticket_codes import kinds
from service.models import PRIORITIES, Category, Customer
from service.reads.customers import find_callers
from service.translate import gettext as _
from service.usecases import intake
from service.web import uploads
from service.web.pages import error_message, field_errors, register_error_pages
from service.web.session import console_staff, load_console_staff, require_staff

bp = Blueprint("console_new", __name__, url_prefix="/console/tickets")
bp.before_request(load_console_staff)
register_error_pages(bp)

# The channels a caller reaches the team through, in the order agents meet them.
CHANNELS = ("phone", "walk_in", "email", "chat", "fax")
FIELDS = ("q", "customer_id", "name", "email", "phone", "language", "channel", "kind", "category", "priority",
          "subject", "description", "remedy_text", "remedy_amount", "remedy_currency", "note")
# The API schema's field paths, as this form names them.
_FORM_NAMES = {"contact.name": "name", "contact.email": "email", "contact.phone": "phone",
               "contact.language": "language", "contact": "contact", "remedy.text": "remedy_text",
               "remedy.amount": "remedy_amount", "remedy.currency": "remedy_currency", "body": "note"}


def _categories():
    return db.session.scalars(select(Category).where(Category.active.is_(True))
                              .order_by(Category.position, Category.id)).all()


def _request_key() -> str:
    # Each rendering of the form carries a key of its own: a double click on
    # "Create ticket" opens one ticket.
    key = request.form.get("request_key", "")
    return key if IDEMPOTENCY_KEY.fullmatch(key) and len(key) <= 64 else secrets.token_urlsafe(24)


def _page(values: dict, errors: dict, status: int = 200, files_dropped: bool = False):
    chosen = None
    if values.get("customer_id", "").isdigit() and int(values["customer_id"]) < 2**31:
        chosen = db.session.get(Customer, int(values["customer_id"]))
    matches = find_callers(values.get("q", ""))
    return render_template(
        "web/console/new_ticket.html", values=values, errors=errors, channels=CHANNELS, kinds=kinds(),
        categories=_categories(), priorities=PRIORITIES, matches=matches, chosen=chosen,
        searched=bool(values.get("q", "").strip()), accept=uploads.accept(), files_hint=uploads.allowed_text(),
        files_dropped=files_dropped, request_key=_request_key()), status


def _defaults() -> dict:
    language = "zh_CN" if str(get_locale()).startswith("zh") else "en"
    return {"channel": "phone", "kind": "complaint", "category": "other", "priority": "normal",
            "language": language, "remedy_currency": "CNY"}


@bp.route("/new", methods=["GET"])
@require_staff("agent")
def new():
    """The form; ``?q=`` lists matching customers, ``?customer_id=`` picks one."""
    values = _defaults() | {k: request.args.get(k, "").strip() for k in ("q", "customer_id") if request.args.get(k)}
    return _page(values, {})


def _loaded(values: dict) -> tuple[dict, dict]:
    """The form as the staff API's ``TicketCreate`` loads it, and the
    errors of every field at once (form names)."""
    data = {k: values[k] for k in ("channel", "kind", "category", "priority", "subject", "description")
            if values.get(k)}
    data.setdefault("subject", "")
    data.setdefault("description", "")
    errors: dict = {}
    if values.get("customer_id"):
        data["customer_id"] = int(values["customer_id"]) if values["customer_id"].isdigit() else values["customer_id"]
    else:
        data["contact"] = {k: values[k] for k in ("name", "email", "phone", "language") if values.get(k)}
        if not values.get("name"):
            errors["name"] = [_("This field is required.")]
        if not values.get("email") and not values.get("phone"):
            errors["contact"] = [_("Give an e-mail address or a phone number.")]
    if values.get("remedy_text") or values.get("remedy_amount"):
        data["remedy"] = {"text": values.get("remedy_text") or None}
        if values.get("remedy_amount"):
            data["remedy"] |= {"amount": values["remedy_amount"], "currency": values.get("remedy_currency") or None}
    if values.get("channel") not in CHANNELS:
        errors["channel"] = [_("Not one of the choices.")]
    try:
        loaded = TicketCreate().load(data)
    except ma.ValidationError as exc:
        loaded = {}
        errors |= {_FORM_NAMES.get(k, k): v for k, v in field_errors(exc.messages).items()}
    if values.get("note"):
        try:
            MessageIn().load({"body": values["note"]})
        except ma.ValidationError as exc:
            errors |= {_FORM_NAMES.get(k, k): v for k, v in field_errors(exc.messages).items()}
    return loaded, errors


@bp.route("/new", methods=["POST"])
@require_staff("agent")
def create():
    """Find customers (``step=find``: the form again, values kept) or open
    the ticket; then its page, with any file that could not be kept named."""
    values = {k: request.form.get(k, "").strip() for k in FIELDS}
    if request.form.get("step") == "find":
        # A customer picked before stays picked (listed first) whatever the new search finds.
        return _page(values, {}, files_dropped=uploads.sent("files"))
    loaded, errors = _loaded(values)
    files, refused = uploads.read_files("files")
    if refused:
        errors["files"] = refused
    if not errors:
        staff = console_staff()
        channel = loaded.pop("channel")
        try:
            ticket = intake.open_for_caller(loaded, Actor.staff(staff), channel, values.get("note"),
                                            request_key=f"console:{_request_key()}")
        except KefuError as exc:
            errors = {_FORM_NAMES.get(k, k): v for k, v in field_errors(exc.fields).items()} \
                or {"_": [error_message(exc)]}
        else:
            return _done(ticket, files, staff)
    return _page(values, errors, 422, files_dropped=bool(files or refused))


def _done(ticket, files, staff):
    flash(_("Ticket %(number)s created.", number=ticket.number), "ok")
    for refusal in uploads.keep_files(ticket, files, Actor.staff(staff)):
        flash(refusal, "error")
    if ticket.customer.email:
        flash(_("The customer was mailed the link to follow the case."), "ok")
    else:
        flash(_("The customer has no e-mail address: send a new tracking link to read it out."), "ok")
    return redirect(url_for("console_ticket.show", number=ticket.number))
