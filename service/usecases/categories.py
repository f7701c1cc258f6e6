"""Category use cases: add a category."""
from __future__ import annotations

from sqlalchemy import select

from service.domain.errors import Conflict
from service.extensions import db
from service.models import Category
from service.reads import process_cache
from service.usecases.uow import UnitOfWork


def create_category(code: str, name: str, name_zh: str | None = None) -> Category:
    """Add an active category at the end of the list; 409 naming ``code`` when it exists.

    Forgets this process's category cache, so new tickets may name it at once.
    """
    with UnitOfWork() as uow:
        if db.session.scalar(select(Category.id).where(Category.code == code)):
            raise Conflict(f"category {code!r} exists", {"code": ["already used"]})
        category = Category(code=code, name=name, name_zh=name_zh, active=True, position=100)
        db.session.add(category)
        uow.commit()
    process_cache.forget("categories")
    return category
