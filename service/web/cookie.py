"""The session cookie's interface: Flask's signed cookie, with its signer kept.

Flask's ``SecureCookieSessionInterface`` builds a new itsdangerous
serializer at the start of every request (to open the session) and again to
save one, even when the request carries no cookie: a few dozen microseconds
a request, which the API (bearer tokens, never a cookie) paid on every call.
The serializer holds nothing but its keys and settings, so one per set of
keys serves every request; a new secret key (or fallback list) gets a new one.

A permanent session's cookie is re-issued (its lifetime slid forward) at
most once per ``SESSION_REFRESH_AFTER`` seconds rather than on every
response: re-signing and compressing it was a tenth of a millisecond on
every console page, and an expiry that slides by the hour is as good as one
that slides by the request when the lifetime is weeks.
"""
from __future__ import annotations

from datetime import datetime, timezone

from flask.sessions import SecureCookieSessionInterface
from itsdangerous import BadSignature


class KeptSignerSessionInterface(SecureCookieSessionInterface):
    """Flask's cookie session, signing with one serializer per set of keys."""

    def __init__(self):
        self._signers: dict = {}

    def get_signing_serializer(self, app):
        """Flask's serializer for ``app``'s current keys, made once per keys."""
        keys = (app.secret_key, tuple(app.config["SECRET_KEY_FALLBACKS"] or ()))
        found = self._signers.get(keys)
        if found is None:
            found = super().get_signing_serializer(app)
            if len(self._signers) > 8:  # keys rotate rarely; never grow without bound
                self._signers.clear()
            self._signers[keys] = found
        return found

    def open_session(self, app, request):
        """Flask's, keeping when the cookie was signed (``kefu_signed_at``,
        aware UTC; None for a new session) for ``should_set_cookie``."""
        serializer = self.get_signing_serializer(app)
        if serializer is None:
            return None
        value = request.cookies.get(self.get_cookie_name(app))
        if not value:
            return self.session_class()
        try:
            data, signed_at = serializer.loads(value, max_age=int(app.permanent_session_lifetime.total_seconds()),
                                               return_timestamp=True)
        except BadSignature:
            return self.session_class()
        session = self.session_class(data)
        session.kefu_signed_at = signed_at
        return session

    def should_set_cookie(self, app, session) -> bool:
        """Set the cookie when the session changed, or (a permanent session,
        ``SESSION_REFRESH_EACH_REQUEST``) when it was signed
        ``SESSION_REFRESH_AFTER`` seconds ago or more, or never."""
        if session.modified:
            return True
        if not (session.permanent and app.config["SESSION_REFRESH_EACH_REQUEST"]):
            return False
        signed_at = getattr(session, "kefu_signed_at", None)
        return signed_at is None or (datetime.now(timezone.utc) - signed_at).total_seconds() >= app.config[
            "SESSION_REFRESH_AFTER"]
