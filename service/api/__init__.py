"""The REST API under /api/v1, documented as OpenAPI at /api/v1/openapi.json."""
from __future__ import annotations

from flask import Blueprint, current_app, render_template

from service.api import (
    customers,
    jobs,
    macros,
    mail,
    notifications,
    public,
    reference,
    tickets,
)
from service.api.errors import KefuApi, register_error_handlers
from service.api.input import refuse_unreadable_input
from service.api.openapi import ErrorAnswers

API_SETTINGS = {
    "API_TITLE": "kefu",
    "API_VERSION": "v1",
    "OPENAPI_VERSION": "3.0.3",
    "OPENAPI_URL_PREFIX": "/api/v1",
    "OPENAPI_JSON_PATH": "openapi.json",
    "API_SPEC_OPTIONS": {
        "components": {"securitySchemes": {"bearerAuth": {"type": "http", "scheme": "bearer"}}},
        "security": [{"bearerAuth": []}],
        "info": {"description": "Customer-service tickets: listen, confirm, handle, feed back."},
    },
}

docs = Blueprint("api_docs", __name__)


@docs.route("/api/v1/docs")
def docs_page():
    """A readable list of every operation, rendered from the OpenAPI document (no CDN)."""
    spec = current_app.extensions["kefu_api"].spec.to_dict()
    return render_template("api_docs.html", spec=spec)


def init_api(app) -> KefuApi:
    """Bind the API to ``app``: settings, error handling, blueprints."""
    for key, value in API_SETTINGS.items():
        app.config.setdefault(key, value)
    api = KefuApi(app, spec_kwargs={"extra_plugins": [ErrorAnswers(app)]})
    register_error_handlers(app)
    app.before_request(refuse_unreadable_input)
    for module in (tickets, public, customers, reference, jobs, mail, macros, notifications):
        api.register_blueprint(module.blp)
    app.register_blueprint(docs)
    app.extensions["kefu_api"] = api
    return api
