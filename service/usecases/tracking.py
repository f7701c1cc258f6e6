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

from service.domain.errors import NotFound
from service.extensions import db
from service.models import Ticket

SALT = "kefu.tracking"


def _serializer():
    # One per app and key: building it on every call was a measurable part of opening a ticket.
    key = current_app.config["SECRET_KEY"]
    cached = current_app.extensions.get("kefu_tracking_serializer")
    if cached is None or cached[0] != key:
        cached = current_app.extensions["kefu_tracking_serializer"] = (key, URLSafeSerializer(key, salt=SALT))
    return cached[1]


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def issue_token(ticket: Ticket, sign: bool = True) -> str | None:
    """Give ``ticket`` a new tracking token and return it (only its hash is kept).

    With ``sign`` false the token is set but not returned (None): for callers
    that have no customer to hand it to (the staff API), since the token can
    never be shown later anyway; the customer's mail carries a link of its own
    (``mail_token``).
    """
    secret = secrets.token_urlsafe(24)
    ticket.tracking_hash = _digest(secret)
    return _serializer().dumps(secret) if sign else None


MAIL_SALT = "kefu.tracking.mail"


def mail_token(ticket: Ticket) -> str:
    """A link token for mail sent about ``ticket``, made again at any time.

    The customer's own token cannot be shown twice (only its hash is kept),
    but mail jobs run later and need a link: this one signs the ticket id
    with part of the current hash, so it opens the same ticket and stops
    working when the customer's token is replaced.
    """
    return URLSafeSerializer(current_app.config["SECRET_KEY"], salt=MAIL_SALT).dumps(
        [ticket.id, ticket.tracking_hash[:16]])


def _ticket_for_mail_token(token: str) -> Ticket | None:
    try:
        value = URLSafeSerializer(current_app.config["SECRET_KEY"], salt=MAIL_SALT).loads(token)
    except (BadSignature, ValueError, TypeError):
        return None
    if not (isinstance(value, list) and len(value) == 2 and isinstance(value[0], int)
            and isinstance(value[1], str) and 0 < value[0] < 2**31):
        return None
    ticket = db.session.get(Ticket, value[0])
    if ticket is None or not ticket.tracking_hash or ticket.tracking_hash[:16] != value[1]:
        return None
    return ticket


def ticket_for_token(token: str) -> Ticket:
    """The ticket a token (the customer's, or one from a mail) opens;
    ``NotFound`` for a forged, altered or revoked token."""
    try:
        secret = _serializer().loads(token)
    except (BadSignature, ValueError, TypeError):
        ticket = _ticket_for_mail_token(token)
        if ticket is None:
            raise NotFound("no ticket for this link") from None
        return ticket
    if not isinstance(secret, str):
        raise NotFound("no ticket for this link")
    ticket = db.session.scalar(select(Ticket).where(Ticket.tracking_hash == _digest(secret)))
    if ticket is None:
        raise NotFound("no ticket for this link")
    return ticket
