"""The error answers of every operation, declared in the OpenAPI document.

flask-smorest documents the 422 of a validated body and a ``default`` error;
clients (and generated clients) want to know which errors each operation
can answer. ``ErrorAnswers`` is an apispec plugin that adds them from what
kefu knows of the route, for the core's operations and the plugins' alike:

=====  ==============================================================
400    every operation: a body that does not parse or nests too deep
401    staff operations (a ``require_role`` view): no valid bearer token
403    staff operations: the role may not do this
404    operations with path parameters: no such ticket, customer, ...
409    writes: illegal transition, stale version, a plugin's refusal,
       a concurrent change
413    POST, PUT, PATCH: a body over ``MAX_CONTENT_LENGTH``
422    every operation: a field (also a query or path parameter) refused
429    public operations (``security: []``), with ``Retry-After``
=====  ==============================================================

An operation's own declaration of a status (e.g. the survey page's 410)
is kept.
"""
from __future__ import annotations

from apispec import BasePlugin

# flask-smorest registers a response per HTTP status under its name (error
# shape, the status's phrase); 429 gets one of ours that documents Retry-After.
ANSWERS = {"400": "BAD_REQUEST", "401": "UNAUTHORIZED", "403": "FORBIDDEN", "404": "NOT_FOUND",
           "409": "CONFLICT", "413": "REQUEST_ENTITY_TOO_LARGE", "422": "UNPROCESSABLE_ENTITY",
           "429": "RATE_LIMITED"}
RATE_LIMITED = {
    "description": "Too many requests from this client; Retry-After says when to try again.",
    "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
    "headers": {"Retry-After": {"description": "seconds to wait before trying again",
                                "schema": {"type": "integer", "minimum": 1}}},
}
WRITES = {"post", "put", "patch", "delete"}
WITH_BODY = {"post", "put", "patch"}


def _view(app, rule, method: str):
    view = app.view_functions.get(rule.endpoint)
    view_class = getattr(view, "view_class", None)
    return getattr(view_class, method, None) if view_class is not None else view


class ErrorAnswers(BasePlugin):
    """apispec plugin declaring the error answers above on each operation."""

    def __init__(self, app):
        self.app = app

    def init_spec(self, spec):
        super().init_spec(spec)
        spec.components.response("RATE_LIMITED", RATE_LIMITED, lazy=True)

    def operation_helper(self, path=None, operations=None, **kwargs):
        rule = kwargs.get("rule")
        if rule is None or not operations:
            return
        for method, operation in operations.items():
            if method not in {"get", "post", "put", "patch", "delete"}:
                continue
            view = _view(self.app, rule, method)
            staff = getattr(view, "kefu_min_role", None) is not None
            public = operation.get("security") == []
            statuses = {"400", "422"}
            if staff:
                statuses |= {"401", "403"}
            if rule.arguments:
                statuses.add("404")
            if method in WRITES:
                statuses.add("409")
            if method in WITH_BODY:
                statuses.add("413")
            if public:
                statuses.add("429")
            responses = operation.setdefault("responses", {})
            for status in sorted(statuses):
                responses.setdefault(status, ANSWERS[status])
