"""Staff authentication (bearer tokens, passwords) and role checks."""
from __future__ import annotations

import functools
import hashlib
import secrets

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from flask import current_app, request
from sqlalchemy import select

from service.domain.errors import Forbidden, Unauthorized
from service.extensions import db
from service.models import ApiToken, Staff
from service.models.base import utcnow
from service.reads import process_cache
from service.usecases.uow import UnitOfWork

_hasher = PasswordHasher()
TOKEN_PREFIX = "kefu_"


def hash_password(password: str) -> str:
    """Argon2id hash of ``password`` for ``Staff.password_hash``."""
    return _hasher.hash(password)


def check_password(staff: Staff, password: str) -> bool:
    """True when ``password`` matches; never raises for a bad or missing hash."""
    if not staff.password_hash:
        return False
    try:
        return _hasher.verify(staff.password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def _token_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def issue_token(staff: Staff, label: str = "") -> str:
    """Create an API token for ``staff`` (committed) and return it; only its hash is kept."""
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    with UnitOfWork() as uow:
        db.session.add(ApiToken(staff_id=staff.id, token_hash=_token_digest(token), label=label))
        uow.commit()
    return token


def revoke_token(token: str) -> bool:
    """Revoke ``token``; True when it existed and was active."""
    with UnitOfWork() as uow:
        row = db.session.scalar(select(ApiToken).where(ApiToken.token_hash == _token_digest(token)))
        if row is None or row.revoked_at is not None:
            return False
        row.revoked_at = utcnow()
        uow.commit()
    forget_tokens()
    return True


_CACHED_COLUMNS = ("id", "email", "name", "role", "department_id", "active", "language", "timezone")
TOKENS = "tokens"


def forget_tokens() -> None:
    """Drop this process's cache of token lookups (after a revocation or a role change)."""
    process_cache.forget(TOKENS)


def staff_for_token(token: str) -> Staff | None:
    """The active staff member owning an unrevoked ``token``, else None.

    A found token is remembered in this process for ``AUTH_CACHE_SECONDS``
    (0 turns the cache off), so most requests authenticate without a query;
    a revocation applies at once in the process that made it and within
    that many seconds in the others.
    """
    digest = _token_digest(token)
    ttl = current_app.config.get("AUTH_CACHE_SECONDS") or 0
    staff = process_cache.get(TOKENS, digest, Staff) if ttl else None
    if staff is None:
        staff = db.session.scalar(
            select(Staff).join(ApiToken, ApiToken.staff_id == Staff.id).where(
                ApiToken.token_hash == digest, ApiToken.revoked_at.is_(None), Staff.active.is_(True)
            )
        )
        if staff is not None:
            process_cache.put(TOKENS, digest, staff, _CACHED_COLUMNS, ttl)
    return staff


def current_staff() -> Staff:
    """The authenticated staff member of this request (401 when there is none)."""
    # Cached on the request, not on ``g``: an app context (and its ``g``) can
    # outlive one request, e.g. in tests or CLI code that serves several.
    staff = getattr(request, "kefu_staff", None)
    if staff is None:
        header = request.headers.get("Authorization", "")
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise Unauthorized("send Authorization: Bearer <token>")
        staff = staff_for_token(token.strip())
        if staff is None:
            raise Unauthorized("the token is unknown or revoked")
        request.kefu_staff = staff
    return staff


def require_role(role: str, *also: str):
    """Decorate a view so that only staff with ``role`` or above reach it (401/403).

    ``also`` names roles beside the ladder that may reach it too, e.g.
    ``require_role("agent", "finance")`` for reads finance staff need
    (``Staff.has_role`` says who has which role).
    """
    roles = (role, *also)

    def decorator(view):
        @functools.wraps(view)
        def wrapper(*args, **kwargs):
            staff = current_staff()
            if not any(staff.has_role(r) for r in roles):
                raise Forbidden(f"needs the {' or '.join(roles)} role")
            return view(*args, **kwargs)

        wrapper.kefu_min_role = role
        wrapper.kefu_also_roles = also
        return wrapper

    return decorator


def authenticate() -> None:
    """``before_request`` hook for staff blueprints: 401 before anything else runs."""
    current_staff()
