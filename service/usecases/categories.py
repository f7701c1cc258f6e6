"""Category use cases: add a category, rename or (de)activate one."""
from __future__ import annotations

from sqlalchemy import select

from service.domain.errors import Conflict
from service.extensions import db
from service.models import Category
from service.reads import process_cache
from service.usecases.named_rows import rename_row
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


def update_category(category_id: int, name: str, name_zh: str | None, active: bool) -> Category:
    """Rename category ``category_id`` (``name`` in English, ``name_zh`` in
    Chinese, None for none) and activate or deactivate it; its code never
    changes (tickets and the API name it). A deactivated category leaves the
    customer form and the console's choices; tickets filed under it keep it.
    404 for an unknown id. Forgets this process's category cache."""
    category = rename_row(Category, category_id, name, name_zh, active, "category")
    process_cache.forget("categories")
    return category
