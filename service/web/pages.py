"""Shared pieces of the web views: error pages, form errors, safe redirects."""
from __future__ import annotations

from flask import Blueprint, render_template
from flask_babel import gettext as _
from werkzeug.exceptions import HTTPException

from service.domain.errors import Conflict, KefuError, NotFound, Refused, StaleVersion
from service.domain.workflow import IllegalTransition, MissingFields
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


def error_message(exc: Exception) -> str:
    """One translated sentence for a use case's error."""
    if isinstance(exc, StaleVersion):
        return _("Someone else changed this ticket meanwhile; the page now shows the current state.")
    if isinstance(exc, IllegalTransition):
        return _("That step is not possible now: the ticket is %(status)s.",
                 status=label("status", exc.status))
    if isinstance(exc, MissingFields):
        return _("Please fill in the required fields.")
    if isinstance(exc, Refused):
        return exc.message  # the plugin's own words (plugins translate them: the page's language is set)
    if isinstance(exc, Conflict):
        return _("That is not possible in the ticket's current state.")
    if isinstance(exc, NotFound):
        return _("Not found.")
    if isinstance(exc, KefuError):
        return _("Please check the highlighted fields.") if exc.fields else exc.message
    return str(exc)


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
        messages = {403: _("You may not open this page."), 404: _("Not found."),
                    429: _("Too many attempts; please wait a minute and try again.")}
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
