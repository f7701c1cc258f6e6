"""The session cookie's interface: Flask's signed cookie, with its signer kept.

Flask's ``SecureCookieSessionInterface`` builds a new itsdangerous
serializer at the start of every request (to open the session) and again to
save one, even when the request carries no cookie: a few dozen microseconds
a request, which the API (bearer tokens, never a cookie) paid on every call.
The serializer holds nothing but its keys and settings, so one per set of
keys serves every request; a new secret key (or fallback list) gets a new one.
"""
from __future__ import annotations

from flask.sessions import SecureCookieSessionInterface


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
