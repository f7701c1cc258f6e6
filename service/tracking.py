"""Customers' private tracking tokens: signed, one ticket each, stored hashed.

A token is an ``itsdangerous``-signed random secret; only the secret's SHA-256
is stored (indexed, unique), so a database leak does not leak working links,
and issuing a new token revokes the old one. The signature lets forged tokens
be refused without a query; the token does not depend on the ticket's id, so
it can be issued before the ticket is inserted.
"""
from __future__ import annotations

import hashlib
import secrets

from flask import current_app
from itsdangerous import BadSignature, URLSafeSerializer
from sqlalchemy import select

from .errors import NotFound
from .extensions import db
from .models import Ticket

SALT = "kefu.tracking"


def _serializer():
    return URLSafeSerializer(current_app.config["SECRET_KEY"], salt=SALT)


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def issue_token(ticket: Ticket) -> str:
    """Give ``ticket`` a new tracking token and return it (only its hash is kept)."""
    secret = secrets.token_urlsafe(24)
    ticket.tracking_hash = _digest(secret)
    return _serializer().dumps(secret)


def ticket_for_token(token: str) -> Ticket:
    """The ticket a token opens; ``NotFound`` for a forged, altered or revoked token."""
    try:
        secret = _serializer().loads(token)
    except (BadSignature, ValueError, TypeError) as exc:
        raise NotFound("no ticket for this link") from exc
    if not isinstance(secret, str):
        raise NotFound("no ticket for this link")
    ticket = db.session.scalar(select(Ticket).where(Ticket.tracking_hash == _digest(secret)))
    if ticket is None:
        raise NotFound("no ticket for this link")
    return ticket
