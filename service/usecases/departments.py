"""Department use cases: rename a department, deactivate or reactivate it."""
from __future__ import annotations

from service.models import Department
from service.usecases.named_rows import rename_row


def update_department(department_id: int, name: str, name_zh: str | None, active: bool) -> Department:
    """Rename department ``department_id`` (``name`` in English, ``name_zh``
    in Chinese, None for none) and activate or deactivate it; its code never
    changes. A deactivated department is no longer offered when routing a
    ticket; tickets and staff already in it keep it. 404 for an unknown id."""
    return rename_row(Department, department_id, name, name_zh, active, "department")
