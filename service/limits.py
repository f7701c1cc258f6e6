"""Rate limits done right behind a proxy: who the client is, how long to
wait, and sign-in throttled per account as well as per address.

- **The client's address.** Behind a reverse proxy every request comes from
  the proxy; counting per connection address would put every client in one
  bucket (one client could lock all agents out of sign-in). Werkzeug's
  ``ProxyFix`` takes the client's address (and scheme, host, port, prefix)
  from the ``X-Forwarded-*`` headers, trusting as many hops as the
  ``PROXY_FIX_X_*`` settings say: 0 (the default) trusts none, so a client
  talking to kefu directly cannot choose its own bucket with a forged header.
- **Retry-After** on every 429, in seconds, from the limit that was hit.
- **Sign-in per account**: failed sign-ins count against the e-mail address
  tried too (``LOGIN_ACCOUNT_RATE_LIMIT``), so an account cannot be sprayed
  from many addresses; the per-address limit keeps one address from
  trying many accounts.
- **The store goes away**: while the limits' Redis does not answer they are
  counted in this process's memory (Flask-Limiter's in-memory fallback, one
  warning per outage on ``kefu.limits``) and go back to Redis when it
  answers; a customer is never refused a request because of the limiter.
  Store errors are swallowed (``RATELIMIT_SWALLOW_ERRORS``), so a limit
  setting that cannot be read is refused at start instead of being skipped
  on every request.
"""
from __future__ import annotations

import time

import limits as limits_library
from flask import Flask, request
from werkzeug.middleware.proxy_fix import ProxyFix

from service.extensions import limiter
from service.settings import UnsafeSettings

LIMIT_SETTINGS = ("PUBLIC_RATE_LIMIT", "LOGIN_RATE_LIMIT", "LOGIN_ACCOUNT_RATE_LIMIT")

PROXY_SETTINGS = ("PROXY_FIX_X_FOR", "PROXY_FIX_X_PROTO", "PROXY_FIX_X_HOST", "PROXY_FIX_X_PORT",
                  "PROXY_FIX_X_PREFIX")


def signin_account() -> str:
    """The rate-limit key of a sign-in attempt: the e-mail address tried,
    as authentication compares it (trimmed, lower case)."""
    return "account:" + (request.form.get("email") or "").strip().lower()[:254]


def failed_signin(response) -> bool:
    """Whether a sign-in attempt failed (only failures count per account:
    the rightful owner signing in spends nothing)."""
    return response.status_code == 401


def retry_after_seconds() -> int | None:
    """Seconds until the limit this request hit lets it through again (at
    least 1), or None when no limit was hit."""
    hit = limiter.current_limit
    if hit is None or not hit.breached:
        return None
    # reset_at is a whole second past the window's end already.
    return max(1, int(hit.reset_at - time.time()))


def _retry_after(response):
    if response.status_code == 429 and "Retry-After" not in response.headers:
        seconds = retry_after_seconds()
        response.headers["Retry-After"] = str(seconds if seconds is not None else 60)
    return response


def init_app(app: Flask) -> None:
    """Check the limit settings (``UnsafeSettings`` naming one that is not a
    rate limit), trust the configured proxies and add ``Retry-After`` to
    every 429. Call after ``limiter.init_app``."""
    for name in LIMIT_SETTINGS:
        try:
            limits_library.parse_many(str(app.config[name]))
        except ValueError as exc:
            raise UnsafeSettings(f"{name} = {app.config[name]!r} is not a rate limit such as "
                                 f"'30 per minute' or '10 per 15 minutes': {exc}") from None
    # The limiter is one object per process, shared by every app built in it
    # (tests, CLI commands); an outage of the store an earlier app saw says
    # nothing about this app's store, which is where its counting starts.
    limiter._storage_dead = False
    hops = {name.removeprefix("PROXY_FIX_").lower(): int(app.config.get(name) or 0) for name in PROXY_SETTINGS}
    if any(hops.values()):
        app.wsgi_app = ProxyFix(app.wsgi_app, **hops)
    app.after_request(_retry_after)
