"""Staff use cases: create accounts, change them, set passwords, end console sessions.

Console sessions carry their staff member's ``session_version``; raising it
ends every session of that staff member at once (the cookie is only signed,
so the server must refuse it). Sign-out, a password change and a
deactivation raise it; a role change does not, as roles are read from the
database on every request and apply to open sessions at once.
"""
from __future__ import annotations

from sqlalchemy import func, select, update

from service.domain.errors import Conflict, NotFound, ValidationFailed
from service.domain.workflow import STAFF_ROLES
from service.extensions import db
from service.models import Staff
from service.models.base import utcnow
from service.reads.lookup import department_by_code
from service.usecases.auth import forget_tokens, hash_password, issue_token
from service.usecases.uow import UnitOfWork

PASSWORD_LENGTH = (10, 200)  # the console's form and the API's schema ask the same


def _next_session_version():
    # Raised in SQL, so that two raises at once both count.
    return Staff.session_version + 1


def create_staff(email: str, name: str, role: str, department: str | None = None,
                 password: str | None = None) -> tuple[Staff, str]:
    """Create a staff member and an API token for them; return both.

    422 for an unknown role or department code, 409 when the e-mail is taken.
    """
    email = (email or "").strip().lower()
    if "@" not in email:
        raise ValidationFailed("not an e-mail address", {"email": ["not an e-mail address"]})
    if role not in STAFF_ROLES:
        raise ValidationFailed(f"unknown role {role!r}", {"role": [f"must be one of {', '.join(STAFF_ROLES)}"]})
    with UnitOfWork() as uow:
        if db.session.scalar(select(Staff.id).where(func.lower(Staff.email) == email)):
            raise Conflict(f"{email} already has an account", {"email": ["already used"]})
        dept = department_by_code(department) if department else None
        staff = Staff(email=email, name=name.strip(), role=role, department=dept,
                      password_hash=hash_password(password) if password else None)
        db.session.add(staff)
        db.session.flush()
        token = issue_token(staff, label="created")  # the same transaction: an account has its token
        uow.commit()
    return staff, token


def update_staff(staff_id: int, role: str | None = None, department: str | None = None,
                 active: bool | None = None, actor_id: int | None = None) -> Staff:
    """Change a staff member's role, department (code; "" for none) or active flag.

    404 for an unknown id, 422 for an unknown role or department, 409 when
    ``actor_id`` (the admin making the change) would take away their own
    admin role or deactivate themselves (code ``self_demotion``). A change of
    role or of the active flag applies to API tokens at once in this process
    (the token cache is dropped) and to console sessions at once; a
    deactivation ends every console session (they stay ended when the
    account is activated again).
    """
    with UnitOfWork() as uow:
        staff = db.session.get(Staff, staff_id)
        if staff is None:
            raise NotFound(f"no staff member {staff_id}")
        if role is not None and role not in STAFF_ROLES:
            raise ValidationFailed(f"unknown role {role!r}",
                                   {"role": [f"must be one of {', '.join(STAFF_ROLES)}"]})
        if actor_id == staff.id and ((role is not None and role != "admin") or active is False):
            field = "active" if active is False else "role"
            raise Conflict("admins cannot demote or deactivate themselves", {field: ["ask another admin"]},
                           code="self_demotion")
        if role is not None:
            staff.role = role
        if department is not None:
            staff.department = department_by_code(department) if department else None
        if active is not None:
            if not active:
                staff.session_version = _next_session_version()
            staff.active = active
        uow.commit()
    forget_tokens()
    return staff


def set_password(staff_id: int, password: str) -> Staff:
    """Give a staff member a new console password and end every console
    session they have (a copied cookie included); API tokens stay.

    404 for an unknown id; 422 (field ``password``) unless it is 10 to 200
    characters long, and then nothing changes.
    """
    shortest, longest = PASSWORD_LENGTH
    if not shortest <= len(password or "") <= longest:
        raise ValidationFailed(f"a password has {shortest} to {longest} characters",
                               {"password": [f"must be {shortest} to {longest} characters long"]})
    with UnitOfWork() as uow:
        staff = db.session.get(Staff, staff_id)
        if staff is None:
            raise NotFound(f"no staff member {staff_id}")
        staff.password_hash = hash_password(password)
        staff.session_version = _next_session_version()
        uow.commit()
    return staff


def end_console_sessions(staff_id: int) -> None:
    """End every console session of this staff member, on every device and
    every copy of the cookie: the session version goes up, and sessions
    carrying an older one are refused. Sign-out calls it ("sign out
    everywhere"). An unknown id changes nothing.
    """
    with UnitOfWork() as uow:
        db.session.execute(update(Staff).where(Staff.id == staff_id)
                           .values(session_version=_next_session_version()))
        uow.commit()


def record_sign_in(staff_id: int) -> None:
    """Note that this staff member signed in to the console now (shown to
    admins on the staff table). An unknown id changes nothing."""
    with UnitOfWork() as uow:
        db.session.execute(update(Staff).where(Staff.id == staff_id).values(last_sign_in_at=utcnow()))
        uow.commit()


def update_own_settings(staff: Staff, language: str, timezone: str, notify_mail: str | None = None) -> Staff:
    """Set the signed-in staff member's console language, time zone and
    (when given) mail for notices, ``each`` or ``none`` (checked by the
    caller against the choices offered)."""
    with UnitOfWork() as uow:
        staff.language, staff.timezone = language, timezone
        if notify_mail is not None:
            staff.notify_mail = notify_mail
        uow.commit()
    return staff
