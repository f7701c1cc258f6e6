"""Staff use cases: create accounts."""
from __future__ import annotations

from sqlalchemy import func, select

from service.domain.errors import Conflict, ValidationFailed
from service.domain.workflow import STAFF_ROLES
from service.extensions import db
from service.models import Staff
from service.reads.lookup import department_by_code
from service.usecases.auth import hash_password, issue_token
from service.usecases.uow import UnitOfWork


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
    admin role or deactivate themselves. A change of role or of the active
    flag applies to API tokens at once in this process (the token cache is
    dropped) and ends console sessions that no longer qualify.
    """
    from service.domain.errors import NotFound
    from service.usecases.auth import forget_tokens

    with UnitOfWork() as uow:
        staff = db.session.get(Staff, staff_id)
        if staff is None:
            raise NotFound(f"no staff member {staff_id}")
        if role is not None and role not in STAFF_ROLES:
            raise ValidationFailed(f"unknown role {role!r}",
                                   {"role": [f"must be one of {', '.join(STAFF_ROLES)}"]})
        if actor_id == staff.id and ((role is not None and role != "admin") or active is False):
            raise Conflict("admins cannot demote or deactivate themselves", {"role": ["ask another admin"]})
        if role is not None:
            staff.role = role
        if department is not None:
            staff.department = department_by_code(department) if department else None
        if active is not None:
            staff.active = active
        uow.commit()
    forget_tokens()
    return staff


def update_own_settings(staff: Staff, language: str, timezone: str) -> Staff:
    """Set the signed-in staff member's console language and time zone
    (checked by the caller against the choices offered)."""
    with UnitOfWork() as uow:
        staff.language, staff.timezone = language, timezone
        uow.commit()
    return staff
