"""Web security: CSRF on every form, security headers, friendly error pages.

CSRF comes from Flask-WTF's ``CSRFProtect``, checked for every unsafe request
(POST, PUT, PATCH, DELETE) outside ``/api/`` - so plugin pages are covered
too; the JSON API is exempt because it authenticates with bearer tokens,
which a browser never sends on its own.
"""
from __future__ import annotations

from flask import Flask, g, render_template, request
from flask_wtf.csrf import CSRFError, CSRFProtect

from service.translate import gettext

csrf = CSRFProtect()

# No inline script anywhere; styles come from our one CSS file; charts are
# SVG images (data: URIs), which cannot run script when shown as <img>.
CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
       "form-action 'self'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'")


def _is_api() -> bool:
    return request.path.startswith("/api/")


_ALWAYS = (("X-Content-Type-Options", "nosniff"), ("X-Frame-Options", "DENY"),
           ("Referrer-Policy", "same-origin"))


def _headers(response):
    # Each header only where the view did not set its own. One pass over the
    # headers instead of a search per header: this runs on every response.
    headers = response.headers
    present = {name.lower() for name, _ in headers.items()}
    wanted = list(_ALWAYS)
    if not _is_api():
        wanted.append(("Content-Security-Policy", CSP))
    # Nothing but static files may be kept by a browser or a shared cache:
    # tracking and survey pages and answers are addressed by a private
    # token, the console and the staff API show private customer data, and
    # every form carries a CSRF token of its session.
    if not (request.endpoint or "").endswith("static"):
        wanted.append(("Cache-Control", "no-store"))
    for name, value in wanted:
        if name.lower() not in present:
            headers.add(name, value)
    return response


def init_app(app: Flask) -> None:
    """Protect every form with CSRF (API exempt) and add the security headers."""
    # Checked by path, not by blueprint: a plugin may mount its API
    # blueprint under any name, but always under /api/.
    app.config["WTF_CSRF_CHECK_DEFAULT"] = False
    csrf.init_app(app)

    @app.before_request
    def _check_csrf():
        # Flask-WTF caches the token on ``g``, which lives as long as the app
        # context; where one app context serves several requests (tests, CLI
        # code) a token cached for an earlier session must not be reused.
        g.pop("csrf_token", None)
        if request.method in app.config["WTF_CSRF_METHODS"] and not _is_api():
            csrf.protect()

    app.after_request(_headers)

    @app.errorhandler(CSRFError)
    def _csrf_error(exc):
        if _is_api():
            from service.api.errors import error_body
            return error_body(400, "bad_request", exc.description)
        # Customers meet this on a phone after a long pause: say what to do, in their language.
        return render_template("web/error.html", status=400, message=gettext(
            "The form has expired or was sent from another page. Reload the page and try again.")), 400
