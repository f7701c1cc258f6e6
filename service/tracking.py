"""Customers' private tracking tokens: signed, one ticket each, stored hashed.

A token is ``itsdangerous``-signed ``[ticket id, secret]``; only the SHA-256 of
the secret is stored, so a database leak does not leak working links, and
issuing a new token revokes the old one.
"""
from __future__ import annotations

import hashlib
import secrets

from flask import current_app
from itsdangerous import BadSignature, URLSafeSerializer

from .errors import NotFound
from .extensions import db
from .models import Ticket

SALT = "kefu.tracking"


def _serializer():
    return URLSafeSerializer(current_app.config["SECRET_KEY"], salt=SALT)


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def issue_token(ticket: Ticket) -> str:
    """Give ``ticket`` a new tracking token (the ticket needs an id) and return it."""
    secret = secrets.token_urlsafe(24)
    ticket.tracking_hash = _digest(secret)
    return _serializer().dumps([ticket.id, secret])


def ticket_for_token(token: str) -> Ticket:
    """The ticket a token opens; ``NotFound`` for a forged, altered or revoked token."""
    try:
        ticket_id, secret = _serializer().loads(token)
    except (BadSignature, ValueError, TypeError) as exc:
        raise NotFound("no ticket for this link") from exc
    ticket = db.session.get(Ticket, ticket_id) if isinstance(ticket_id, int) else None
    if ticket is None or not isinstance(secret, str) or not ticket.tracking_hash \
            or not secrets.compare_digest(ticket.tracking_hash, _digest(secret)):
        raise NotFound("no ticket for this link")
    return ticket
