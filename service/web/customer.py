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
from service.domain.errors import KefuError
from service.domain.workflow import STEP_OF_STATUS
from service.extensions import db, limiter
from service.languages import normalise
from service.models import KINDS, Category
from service.reads.timeline import customer_timeline, reply_by
from service.translate import gettext as _
from service.usecases import messages, opening, recovery, tickets, tracking
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
    return render_template("web/customer/form.html", kinds=KINDS, categories=_categories(), values={},
                           errors={}, request_key=secrets.token_urlsafe(24))


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
    try:
        loaded = PublicTicketIn().load(data)
        contact = {k: loaded.pop(k) for k in ("name", "email", "phone", "language")}
        loaded["contact"] = contact
        ticket, token = opening.open_ticket(loaded, Actor("customer", name=contact["name"]), channel="web",
                                            request_key=f"form:{request_key}")
    except ma.ValidationError as exc:
        errors = field_errors(exc.messages)
    except KefuError as exc:
        errors = field_errors(exc.fields) or {"_": [error_message(exc)]}
    else:
        # Post/redirect/get: the token is shown once, from the session, and
        # never lands in the browser history as a form resubmission.
        session["filed"] = {"number": ticket.number, "token": token, "reply_by": _iso(reply_by(ticket))}
        return redirect(url_for("web.filed"))
    if "remedy.text" in errors:
        errors["remedy"] = errors.pop("remedy.text")
    return render_template("web/customer/form.html", kinds=KINDS, categories=_categories(), values=values,
                           errors=errors, request_key=request_key), 422


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
    ticket = tracking.ticket_for_token(token)
    return render_template(
        "web/customer/track.html", ticket=ticket, token=token, steps=STEPS,
        step=STEP_OF_STATUS[ticket.status], reply_by=reply_by(ticket),
        timeline=customer_timeline(ticket), panels=tracking_panels(ticket), errors={})


@bp.route("/track/<token>/reply", methods=["POST"])
@limiter.limit(_public_limit)
def reply(token):
    """The customer writes to the service team."""
    ticket = tracking.ticket_for_token(token)
    try:
        # The API's own check: the same limits for the page as for the API.
        body = PublicMessageIn().load({"body": request.form.get("body", "")})["body"]
        messages.add_message(ticket, body, Actor.customer(ticket.customer))
    except ma.ValidationError as exc:
        flash(field_errors(exc.messages).get("body", [""])[0], "error")
    except KefuError as exc:
        flash(error_message(exc) if not exc.fields else field_errors(exc.fields).get("body", [""])[0], "error")
    else:
        flash(_("Your message was sent."), "ok")
    return redirect(url_for("web.track", token=token) + "#messages")


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
