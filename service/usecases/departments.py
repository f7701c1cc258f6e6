"""Department use cases: rename a department, deactivate or reactivate it."""
from __future__ import annotations

from service.domain.errors import NotFound
from service.extensions import db
from service.models import Department
from service.usecases.uow import UnitOfWork


def update_department(department_id: int, name: str, name_zh: str | None, active: bool) -> Department:
    """Rename department ``department_id`` (``name`` in English, ``name_zh``
    in Chinese, None for none) and activate or deactivate it; its code never
    changes. A deactivated department is no longer offered when routing a
    ticket; tickets and staff already in it keep it. 404 for an unknown id."""
    with UnitOfWork() as uow:
        department = db.session.get(Department, department_id)
        if department is None:
            raise NotFound(f"no department {department_id}")
        department.name, department.name_zh, department.active = name, name_zh or None, active
        uow.commit()
    return department
