"""The customer's side: the public complaint form, the confirmation, the
tracking page, replies and the answer to a resolution. No account: a
private signed token per ticket (``service.usecases.tracking``) opens its page.

Endpoints ``web.track`` and ``web.answer`` are what ``service.links`` puts
in customer mail.
"""
from __future__ import annotations

import secrets
from datetime import datetime

import marshmallow as ma
from flask import (
    Blueprint,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    send_file,
    session,
    url_for,
)
from flask_babel import get_locale
from sqlalchemy import select

from service.api.public import (
    IDEMPOTENCY_KEY,
    PublicMessageIn,
    PublicTicketIn,
    ResolutionAnswerIn,
)
from service.domain.actors import Actor
from service.domain.errors import Conflict, KefuError
from service.domain.workflow import STEP_OF_STATUS
from service.extensions import db, limiter
from service.languages import normalise
from service.models import KINDS, Category
from service.reads.customer_files import customer_file, customer_files
from service.reads.timeline import customer_timeline, reply_by
from service.translate import gettext as _
from service.usecases import messages, opening, recovery, tickets, tracking
from service.web import uploads
from service.web.pages import (
    error_message,
    field_errors,
    local_path,
    register_error_pages,
)
from service.web.panels import tracking_panels

bp = Blueprint("web", __name__)
register_error_pages(bp)
STEPS = ("listen", "confirm", "handle", "feed_back")
FORM_FIELDS = ("kind", "category", "subject", "description", "name", "email", "phone")


def _categories():
    return db.session.scalars(select(Category).where(Category.active.is_(True))
                              .order_by(Category.position, Category.id)).all()


def _public_limit():
    return current_app.config["PUBLIC_RATE_LIMIT"]


@bp.route("/lang/<code>", methods=["POST"])
def switch_language(code):
    """The language switch: remembered in the session for this visitor."""
    language = normalise(code)
    if language:
        session["lang"] = language
    return redirect(local_path(request.form.get("back"), "/"))


@bp.route("/", methods=["GET"])
def form():
    """The public complaint and feedback form."""
    return _form_page({}, {}, secrets.token_urlsafe(24))


def _form_page(values: dict, errors: dict, request_key: str, files_dropped: bool = False):
    return render_template("web/customer/form.html", kinds=KINDS, categories=_categories(), values=values,
                           errors=errors, request_key=request_key, accept=uploads.accept(),
                           files_hint=uploads.allowed_text(), files_dropped=files_dropped)


def _form_request_key() -> str:
    # Each rendering of the form carries a key of its own: the same form sent
    # twice (a double click, a resend after a lost answer) files one ticket.
    key = request.form.get("request_key", "")
    return key if IDEMPOTENCY_KEY.fullmatch(key) else secrets.token_urlsafe(24)


@bp.route("/", methods=["POST"])
@limiter.limit(_public_limit, methods=["POST"])
def file():
    """File the form through the same use case as the public API; then the confirmation."""
    values = {k: request.form.get(k, "").strip() for k in FORM_FIELDS + ("remedy",)}
    request_key = _form_request_key()
    data = {k: v for k, v in values.items() if v and k in FORM_FIELDS}
    # The customer's mail comes in the language they filed in.
    data["language"] = normalise(str(get_locale())) or "en"
    if values["remedy"]:
        data["remedy"] = {"text": values["remedy"]}
    # The files are checked with the form, so a refused one is named in the same round.
    files, refused = uploads.read_files("files")
    errors = {"files": refused} if refused else {}
    try:
        loaded = PublicTicketIn().load(data)
    except ma.ValidationError as exc:
        errors = field_errors(exc.messages) | errors
    if not errors:
        contact = {k: loaded.pop(k) for k in ("name", "email", "phone", "language")}
        loaded["contact"] = contact
        try:
            ticket, token = opening.open_ticket(loaded, Actor("customer", name=contact["name"]), channel="web",
                                                request_key=f"form:{request_key}")
        except KefuError as exc:
            errors = field_errors(exc.fields) or {"_": [error_message(exc)]}
        else:
            # Kept after the ticket, each on its own: a file the store then refuses costs only itself.
            for refusal in uploads.keep_files(ticket, files, Actor.customer(ticket.customer)):
                flash(refusal, "error")
            # Post/redirect/get: the token is shown once, from the session, and
            # never lands in the browser history as a form resubmission.
            session["filed"] = {"number": ticket.number, "token": token, "reply_by": _iso(reply_by(ticket))}
            return redirect(url_for("web.filed"))
    if "remedy.text" in errors:
        errors["remedy"] = errors.pop("remedy.text")
    return _form_page(values, errors, request_key, files_dropped=bool(files or refused)), 422


@bp.route("/filed")
def filed():
    """The confirmation: the ticket number and the private tracking link (shown once)."""
    done = session.pop("filed", None)
    if not done:
        return redirect(url_for("web.form"))
    reply_by = done.get("reply_by")
    return render_template("web/customer/filed.html", number=done["number"],
                           url=url_for("web.track", token=done["token"], _external=True),
                           token=done["token"], reply_by=datetime.fromisoformat(reply_by) if reply_by else None)


def _iso(value: datetime | None) -> str | None:
    # The session cookie keeps text; the confirmation reads it back once.
    return value.isoformat() if value is not None else None


@bp.route("/find", methods=["GET", "POST"])
@limiter.limit(_public_limit, methods=["POST"])
def find():
    """Find my case: the case number and the e-mail or phone on it; the link
    goes by mail (``service.usecases.recovery``). Every request that names a
    number and a contact gets the same answer."""
    values = {k: request.form.get(k, "").strip() for k in ("number", "contact")}
    errors, asked = {}, False
    if request.method == "POST":
        for key in ("number", "contact"):
            if not values[key]:
                errors[key] = [_("This field is required.")]
        if not errors:
            recovery.request_link(values["number"], values["contact"])
            asked = True
    return render_template("web/customer/find.html", values=values, errors=errors,
                           asked=asked), (422 if errors else 200)


@bp.route("/track/<token>")
def track(token):
    """The tracking page: the four steps, the timeline (public messages,
    earlier resolutions, the customer's reasons), reply, answer, plugin panels."""
    return _track_page(tracking.ticket_for_token(token), token)


def _track_page(ticket, token, errors=None, values=None):
    return render_template(
        "web/customer/track.html", ticket=ticket, token=token, steps=STEPS,
        step=STEP_OF_STATUS[ticket.status], reply_by=reply_by(ticket),
        timeline=customer_timeline(ticket), panels=tracking_panels(ticket), files=customer_files(ticket),
        size_text=uploads.size_text, accept=uploads.accept(), files_hint=uploads.allowed_text(),
        errors=errors or {}, values=values or {})


@bp.route("/track/<token>/files/<int(max=2147483647):attachment_id>")
def track_file(token, attachment_id):
    """Download one of the case's files the customer may see
    (``service.reads.customer_files``), as a file, never shown inline; 404
    for a file of another case or one kept for staff."""
    attachment = customer_file(tracking.ticket_for_token(token), attachment_id)
    response = send_file(messages.open_attachment(attachment), mimetype=attachment.content_type,
                         as_attachment=True, download_name=attachment.filename, max_age=0)
    response.content_length = attachment.size
    # The link is private: no shared cache keeps a copy.
    response.cache_control.private = True
    return response


@bp.route("/track/<token>/reply", methods=["POST"])
@limiter.limit(_public_limit)
def reply(token):
    """The customer writes to the service team, with files or not (a photo
    alone is a message too). Errors of the text and of each file in one
    round: the page again (422) with the text kept."""
    ticket = tracking.ticket_for_token(token)
    raw = request.form.get("body", "")
    files, refused = uploads.read_files("files")
    errors = {"files": refused} if refused else {}
    body = None
    if raw.strip() or not files:
        try:
            # The API's own check: the same limits for the page as for the API.
            body = PublicMessageIn().load({"body": raw})["body"]
        except ma.ValidationError as exc:
            errors = field_errors(exc.messages) | errors
    if not errors:
        try:
            if body is not None:
                messages.add_message(ticket, body, Actor.customer(ticket.customer))
            elif ticket.status in ("closed", "cancelled"):
                raise Conflict(f"ticket {ticket.number} is {ticket.status}", current_status=ticket.status)
        except KefuError as exc:
            errors = field_errors(exc.fields) or {"_": [error_message(exc)]}
        else:
            for refusal in uploads.keep_files(ticket, files, Actor.customer(ticket.customer)):
                flash(refusal, "error")
            flash(_("Your message was sent.") if body is not None else _("Your files were sent."), "ok")
            return redirect(url_for("web.track", token=token) + "#messages")
    return _track_page(ticket, token, errors, {"body": raw, "files_dropped": bool(files or refused)}), 422


@bp.route("/track/<token>/<any(accept, reject):answer>", methods=["GET", "POST"])
@limiter.limit(_public_limit, methods=["POST"])
def answer(token, answer):
    """Accept the resolution (the ticket closes) or reject it with a reason."""
    ticket = tracking.ticket_for_token(token)
    errors = {}
    if request.method == "POST":
        try:
            reason = ResolutionAnswerIn(only=("reason",)).load({"reason": request.form.get("reason")})["reason"]
            followup = tickets.answer_resolution(ticket, answer == "accept", reason,
                                                 Actor.customer(ticket.customer))
        except ma.ValidationError as exc:
            errors = field_errors(exc.messages)
        except KefuError as exc:
            errors = field_errors(exc.fields) or {"_": [error_message(exc)]}
        else:
            if followup is not None:
                session["filed"] = {"number": followup.number, "token": followup.new_token}
                return redirect(url_for("web.filed"))
            flash(_("Thank you: the ticket is closed.") if answer == "accept"
                  else _("Thank you: we are working on it again."), "ok")
            return redirect(url_for("web.track", token=token))
    return render_template("web/customer/answer.html", ticket=ticket, token=token, answer=answer,
                           errors=errors), (422 if errors else 200)
