"""Errors the use cases raise; the API turns each into one JSON shape.

``{"error": {"code": ..., "message": ..., "fields": {field: [reasons]}}}``
"""
from __future__ import annotations


class KefuError(Exception):
    """Base of expected errors: ``status`` is the HTTP status to answer with.

    ``code`` names the kind of error for programs: the class's by default, or
    a narrower one given when raised (``Conflict(..., code="self_demotion")``),
    which the API answers with and the web pages turn into their own words.
    """

    status = 400
    code = "bad_request"

    def __init__(self, message: str, fields: dict[str, list[str]] | None = None, *, code: str | None = None,
                 **extra):
        super().__init__(message)
        self.message, self.fields, self.extra = message, fields or {}, extra
        if code is not None:
            self.code = code


class NotFound(KefuError):
    status, code = 404, "not_found"


class Unauthorized(KefuError):
    status, code = 401, "unauthorized"


class Forbidden(KefuError):
    status, code = 403, "forbidden"


class Conflict(KefuError):
    """An illegal transition or a uniqueness clash (409)."""

    status, code = 409, "conflict"


class StaleVersion(Conflict):
    """The client wrote with a version that is no longer current (409)."""

    code = "stale_version"


class ValidationFailed(KefuError):
    """Input that parsed but is not acceptable, by field (422)."""

    status, code = 422, "validation_failed"


class Refused(Conflict):
    """A plugin's guard refused the change (409). ``code`` and the message are
    the plugin's; ``plugin`` names it; ``ticket_id`` and ``change`` (a
    ``TicketChange``) say what was refused, for the ticket's history."""

    def __init__(self, code: str, message: str, plugin: str, ticket_id: int | None = None, change=None,
                 actor=None):
        super().__init__(message, plugin=plugin)
        self.code, self.plugin, self.ticket_id, self.change, self.actor = code, plugin, ticket_id, change, actor
