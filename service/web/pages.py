"""Shared pieces of the web views: error pages, form errors, safe redirects."""
from __future__ import annotations

from flask import Blueprint, render_template
from werkzeug.exceptions import HTTPException

from service.api.input import NUL, SURROGATE
from service.domain.errors import (
    Conflict,
    Forbidden,
    KefuError,
    NotFound,
    Refused,
    StaleVersion,
)
from service.domain.workflow import IllegalTransition, MissingFields
from service.limits import retry_after_seconds
from service.translate import gettext as _
from service.translate import lazy_gettext as _l
from service.web.i18n import label

# marshmallow's and kefu's messages, as the customer should read them.
_MESSAGES = {
    "Missing data for required field.": "required",
    "Shorter than minimum length 1.": "required",
    "Field may not be null.": "required",
    "must not be blank": "required",
    "Not a valid email address.": "email",
    "not a phone number": "phone",
    "give an e-mail address or a phone number": "contact",
    "email or phone is required": "contact",
    "already used": "taken",
    NUL: "unstorable",
    SURROGATE: "unstorable",
}


def field_message(message: str) -> str:
    """A field error in the page's language (known messages translated)."""
    key = _MESSAGES.get(message)
    if key == "required":
        return _("This field is required.")
    if key == "email":
        return _("Not a valid e-mail address.")
    if key == "phone":
        return _("Not a valid phone number.")
    if key == "contact":
        return _("Give an e-mail address or a phone number.")
    if key == "taken":
        return _("This is already in use.")
    if key == "unstorable":
        return _("This text holds characters that cannot be stored; please remove them.")
    if message.startswith("Longer than maximum length"):
        return _("This is too long.")
    if message.startswith(("unknown code", "Must be one of")):
        return _("Not one of the choices.")
    if message.startswith("required to "):
        return _("This field is required.")
    if message.startswith("stale"):
        return _("Someone else changed this ticket meanwhile; the page now shows the current state.")
    return message


def field_errors(messages: dict) -> dict[str, list[str]]:
    """``{field: [translated reasons]}`` from marshmallow or kefu errors (nested flattened)."""
    out: dict[str, list[str]] = {}
    for name, value in (messages or {}).items():
        if isinstance(value, dict):
            for sub, reasons in field_errors(value).items():
                out[f"{name}.{sub}"] = reasons
        else:
            out[str(name)] = [field_message(str(m)) for m in (value if isinstance(value, list) else [value])]
    return out


# Codes a use case gives one error (``KefuError(..., code=...)``) that have
# words of their own on a page; the other errors are worded by their class.
_CODE_MESSAGES = {
    "self_demotion": _l("You cannot demote or deactivate yourself; ask another admin."),
}


def _ticket_state(status: str) -> str:
    return _("That step is not possible now: the ticket is %(status)s.", status=label("status", status))


def error_message(exc: Exception) -> str:
    """One translated sentence for a use case's error.

    Words follow the error's code; a conflict names a ticket's state only
    when it is about one (it carries ``current_status``), any other gets
    neutral words: an admin page's refusal is not about a ticket.
    """
    if isinstance(exc, StaleVersion):
        return _("Someone else changed this ticket meanwhile; the page now shows the current state.")
    if isinstance(exc, IllegalTransition):
        return _ticket_state(exc.status)
    if isinstance(exc, MissingFields):
        return _("Please fill in the required fields.")
    if isinstance(exc, Refused):
        return exc.message  # the plugin's own words (plugins translate them: the page's language is set)
    if not isinstance(exc, KefuError):
        return str(exc)
    if exc.code in _CODE_MESSAGES:
        return str(_CODE_MESSAGES[exc.code])
    if isinstance(exc, Conflict):
        status = exc.extra.get("current_status")
        return _ticket_state(status) if status else _("That is not possible now.")
    if isinstance(exc, NotFound):
        return _("Not found.")
    if isinstance(exc, Forbidden):
        return _("Your role may not do this.")
    if exc.fields and all(_MESSAGES.get(r) == "unstorable" for reasons in exc.fields.values() for r in reasons):
        # Refused before the form was read (service.api.input): no field is highlighted.
        return _("The text you sent holds characters that cannot be stored; please remove them and try again.")
    return _("Please check the highlighted fields.") if exc.fields else exc.message


def too_many_attempts() -> str:
    """The words of a 429 page: how long to wait, from the limit that was hit."""
    seconds = retry_after_seconds() or 60
    if seconds <= 60:
        return _("Too many attempts; please wait a minute and try again.")
    return _("Too many attempts; please try again in %(minutes)d minutes.", minutes=(seconds + 59) // 60)


def register_error_pages(bp: Blueprint) -> None:
    """HTML error pages for ``bp``'s views instead of the API's JSON errors."""

    @bp.errorhandler(NotFound)
    def _not_found(exc):
        return render_template("web/error.html", status=404, message=_("Not found.")), 404

    @bp.errorhandler(KefuError)
    def _kefu(exc):
        return render_template("web/error.html", status=exc.status, message=error_message(exc)), exc.status

    @bp.errorhandler(HTTPException)
    def _http(exc):
        if exc.code == 429:
            return render_template("web/error.html", status=429, message=too_many_attempts()), 429
        messages = {403: _("You may not open this page."), 404: _("Not found."),
                    # Files too large together for MAX_CONTENT_LENGTH, refused before the form is read.
                    413: _("What you sent is too large; please send fewer or smaller files.")}
        return (render_template("web/error.html", status=exc.code,
                                message=messages.get(exc.code, exc.description)), exc.code)


def local_path(target: str | None, default: str, prefix: str = "/") -> str:
    """``target`` when it is a path on this site starting with ``prefix``, else
    ``default``: no open redirect through ``?next=`` or a form field
    (``//host`` and ``/\\host`` are other sites to a browser)."""
    if (target and target.startswith(prefix) and not target.startswith("//") and "\\" not in target
            and not any(ord(ch) < 32 for ch in target)):
        return target
    return default


def safe_next(target: str | None, default: str) -> str:
    """``target`` when it is a console path on this site, else ``default``."""
    return local_path(target, default, "/console")
