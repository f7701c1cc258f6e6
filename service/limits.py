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
"""
from __future__ import annotations

import time

from flask import Flask, request
from werkzeug.middleware.proxy_fix import ProxyFix

from service.extensions import limiter

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
    """Trust the configured proxies and add ``Retry-After`` to every 429."""
    hops = {name.removeprefix("PROXY_FIX_").lower(): int(app.config.get(name) or 0) for name in PROXY_SETTINGS}
    if any(hops.values()):
        app.wsgi_app = ProxyFix(app.wsgi_app, **hops)
    app.after_request(_retry_after)
