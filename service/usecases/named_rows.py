"""Renaming and (de)activating the rows people pick by name: categories and
departments (``code``, ``name``, ``name_zh``, ``active``)."""
from __future__ import annotations

from service.domain.errors import NotFound
from service.extensions import db
from service.usecases.uow import UnitOfWork


def rename_row(model, row_id: int, name: str, name_zh: str | None, active: bool, what: str):
    """Give row ``row_id`` of ``model`` its English ``name``, Chinese
    ``name_zh`` (None or empty for none) and ``active``, in a unit of work;
    its code never changes (tickets and the API name it). 404 naming
    ``what`` for an unknown id. Returns the row."""
    with UnitOfWork() as uow:
        row = db.session.get(model, row_id)
        if row is None:
            raise NotFound(f"no {what} {row_id}")
        row.name, row.name_zh, row.active = name, name_zh or None, active
        uow.commit()
    return row
