"""Staff use cases: create accounts."""
from __future__ import annotations

from sqlalchemy import func, select

from .auth import hash_password, issue_token
from .errors import Conflict, ValidationFailed
from .extensions import db
from .lookups import department_by_code
from .models import Staff
from .workflow import STAFF_ROLES


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
    if db.session.scalar(select(Staff.id).where(func.lower(Staff.email) == email)):
        raise Conflict(f"{email} already has an account", {"email": ["already used"]})
    dept = department_by_code(department) if department else None
    staff = Staff(email=email, name=name.strip(), role=role, department=dept,
                  password_hash=hash_password(password) if password else None)
    db.session.add(staff)
    db.session.commit()
    return staff, issue_token(staff, label="created")
