"""Staff sessions for the console: sign in, sign out, who is signed in, role checks.

The session cookie (signed by Flask, HttpOnly, SameSite, Secure when
configured) holds the staff id and the staff member's session version at
sign-in. Being signed, not stored, the cookie would stay good for its whole
lifetime wherever a copy of it is; so every request compares the version
with the database's, and sign-out, a password change or a deactivation
raise that (``service.usecases.staff``): every session of the staff member
ends at once, on every device. Sign-out is therefore "sign out everywhere".
Roles are read from the database on every request, so a role change needs
no new session.
"""
from __future__ import annotations

import functools
import secrets

from flask import abort, has_request_context, redirect, request, session, url_for
from sqlalchemy import func, select

from service.extensions import db
from service.models import Staff
from service.usecases.auth import check_password, hash_password
from service.usecases.staff import end_console_sessions


@functools.cache
def _decoy() -> Staff:
    return Staff(password_hash=hash_password(secrets.token_urlsafe(16)))


def authenticate(email: str, password: str) -> Staff | None:
    """The active staff member with this e-mail and password, else None.

    An unknown e-mail costs a password check too, so the answer's timing
    does not tell which e-mail addresses have accounts.
    """
    staff = db.session.scalar(select(Staff).where(func.lower(Staff.email) == (email or "").strip().lower()))
    if staff is None:
        check_password(_decoy(), password or "")
        return None
    if not staff.active or not check_password(staff, password or ""):
        return None
    return staff


def sign_in(staff: Staff) -> None:
    """Start a console session for ``staff`` (a fresh session: no fixation)."""
    session.clear()
    session.permanent = True
    session["staff_id"] = staff.id
    session["staff_sv"] = staff.session_version


def sign_out() -> None:
    """End this console session and every other of the same staff member
    (other devices, copies of the cookie): "sign out everywhere"."""
    staff = console_staff()
    if staff is not None:
        end_console_sessions(staff.id)
    session.clear()


def console_staff() -> Staff | None:
    """The staff member signed in to this request's session, else None.

    Cached on the request, not on ``g``: an app context (and its ``g``) can
    outlive one request (tests, CLI code serving several).
    """
    if not has_request_context():
        return None
    if not hasattr(request, "kefu_console_staff"):
        staff = None
        staff_id = session.get("staff_id")
        if isinstance(staff_id, int):
            staff = db.session.get(Staff, staff_id)
            # A session without a version (signed before versions existed) matches none.
            if staff is None or not staff.active or session.get("staff_sv") != staff.session_version:
                staff = None
        request.kefu_console_staff = staff
    return request.kefu_console_staff


def load_console_staff() -> None:
    """``before_request`` for console blueprints: load the signed-in staff
    member early, so the page's language and time zone are theirs."""
    console_staff()


def require_staff(role: str = "agent", *also: str):
    """Decorate a console view: sign-in page for visitors, 403 below ``role``.
    ``also`` names roles beside the ladder that may reach it too (e.g.
    ``finance`` for the ticket page, where finance approves remedies)."""
    roles = (role, *also)

    def decorator(view):
        @functools.wraps(view)
        def wrapper(*args, **kwargs):
            staff = console_staff()
            if staff is None:
                return redirect(url_for("console_auth.login", next=request.full_path.rstrip("?")))
            if not any(staff.has_role(r) for r in roles):
                abort(403)
            return view(*args, **kwargs)

        wrapper.kefu_min_role = role
        wrapper.kefu_also_roles = also
        return wrapper

    return decorator
