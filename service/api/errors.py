"""One JSON error shape for every API error.

``{"error": {"code": str, "message": str, "fields": {field: [reasons]}}}``
plus, for a 409 on a ticket, ``current_status`` and ``allowed_actions``.
"""
from __future__ import annotations

import logging

import marshmallow as ma
from flask_smorest import Api
from werkzeug.exceptions import HTTPException, InternalServerError

from service.domain.errors import Conflict, KefuError, ValidationFailed
from service.domain.workflow import IllegalTransition, MissingFields

log = logging.getLogger("kefu.api")


class ErrorBody(ma.Schema):
    code = ma.fields.String(required=True)
    message = ma.fields.String(required=True)
    fields = ma.fields.Dict(keys=ma.fields.String(), values=ma.fields.List(ma.fields.String()))
    current_status = ma.fields.String()
    allowed_actions = ma.fields.List(ma.fields.String())
    current_version = ma.fields.Integer()
    plugin = ma.fields.String(metadata={"description": "the plugin whose guard refused the change"})


class ErrorSchema(ma.Schema):
    error = ma.fields.Nested(ErrorBody, required=True)


def _flatten(messages, prefix="") -> dict[str, list[str]]:
    """webargs nests errors by location and by nested field; clients want ``a.b: [...]``."""
    out: dict[str, list[str]] = {}
    if isinstance(messages, dict):
        for key, value in messages.items():
            if not prefix and key in ("json", "query", "form", "files", "view_args", "headers"):
                out.update(_flatten(value, ""))
            else:
                name = f"{prefix}.{key}" if prefix else str(key)
                out.update(_flatten(value, name))
    elif isinstance(messages, list) and all(isinstance(m, str) for m in messages):
        out[prefix or "_schema"] = list(messages)
    elif isinstance(messages, list):
        for i, m in enumerate(messages):
            out.update(_flatten(m, f"{prefix}.{i}"))
    else:
        out[prefix or "_schema"] = [str(messages)]
    return out


def error_body(status: int, code: str, message: str, fields=None, **extra):
    return {"error": {"code": code, "message": message, "fields": fields or {}, **extra}}, status


_HTTP_CODES = {400: "bad_request", 401: "unauthorized", 403: "forbidden", 404: "not_found",
               405: "method_not_allowed", 409: "conflict", 413: "too_large", 415: "unsupported_media_type",
               422: "validation_failed", 429: "rate_limited"}


class KefuApi(Api):
    """flask-smorest's Api with kefu's error shape, documented and answered."""

    ERROR_SCHEMA = ErrorSchema

    def handle_http_exception(self, error: HTTPException):
        data = getattr(error, "data", None) or {}
        fields = _flatten(data["messages"]) if "messages" in data else {}
        if error.code == 422 and fields:
            message = "invalid input: " + ", ".join(sorted(fields))
        elif error.code == 400 and "messages" in data:
            message = "malformed request body: " + "; ".join(sum(fields.values(), []))
        else:
            message = data.get("message") or error.description or error.name
        if isinstance(error, InternalServerError):
            message = "internal error"
        headers = data.get("headers") or {}
        body, status = error_body(error.code or 500, _HTTP_CODES.get(error.code, "error"), message, fields)
        return body, status, headers


def register_error_handlers(app) -> None:
    """Answer kefu's domain errors in the one JSON shape."""

    @app.errorhandler(KefuError)
    def _kefu_error(exc: KefuError):
        body, status = error_body(exc.status, exc.code, exc.message, exc.fields, **exc.extra)
        if status == 503:  # a store that is down (attachments): say when to come back
            return body, status, {"Retry-After": str(app.config["DB_UNAVAILABLE_RETRY_AFTER"])}
        return body, status

    @app.errorhandler(IllegalTransition)
    def _illegal(exc: IllegalTransition):
        return error_body(409, "illegal_transition", str(exc), {"action": [f"not allowed when {exc.status}"]},
                          current_status=exc.status, allowed_actions=exc.allowed)

    @app.errorhandler(MissingFields)
    def _missing(exc: MissingFields):
        return error_body(422, "validation_failed", str(exc), exc.fields)


__all__ = ["Conflict", "ErrorSchema", "KefuApi", "ValidationFailed", "register_error_handlers", "error_body"]
