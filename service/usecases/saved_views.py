"""Saved queue views: save the queue's current filters and sort under a
name, rename, delete.

A view is its owner's; a shared one is listed for every staff member.
Only supervisors (and admins) share a view, and a shared view is renamed
or deleted by its owner or a supervisor; a personal one only by its owner.
"""
from __future__ import annotations

from urllib.parse import parse_qsl, urlencode

from sqlalchemy import func, select

from service.domain.errors import Forbidden, NotFound, ValidationFailed
from service.extensions import db
from service.models import SavedView, Staff
from service.usecases.uow import UnitOfWork

NAME_LIMIT = 80
QUERY_LIMIT = 2000
MAX_VIEWS = 50  # per staff member: a sidebar, not an archive


def _name(name: str | None) -> str:
    text = " ".join((name or "").split())
    if not text:
        raise ValidationFailed("the view needs a name", {"name": ["must not be blank"]})
    if len(text) > NAME_LIMIT:
        raise ValidationFailed("the name is too long", {"name": [f"Longer than maximum length {NAME_LIMIT}."]})
    return text


def _query(query: str | None) -> str:
    # Re-encoded from its pairs: what is stored is a plain query string,
    # never a path or another site, and without the page (a view opens on its first).
    pairs = [(k, v) for k, v in parse_qsl((query or "").lstrip("?"), keep_blank_values=False)
             if k not in ("page", "select")]
    text = urlencode(pairs)
    if len(text) > QUERY_LIMIT:
        raise ValidationFailed("too many filters to save", {"query": [f"Longer than maximum length {QUERY_LIMIT}."]})
    return text


def save_view(staff: Staff, name: str, queue: str, query: str, shared: bool, queues: tuple[str, ...]) -> SavedView:
    """Save ``queue`` (one of ``queues``, those ``staff`` sees; 422 naming
    ``queue`` otherwise) with ``query`` (its filters and sort) as ``name``
    (1 to 80 characters). ``shared`` needs a supervisor (403)."""
    if queue not in queues:
        raise ValidationFailed(f"unknown queue {queue!r}", {"queue": ["Not one of the choices."]})
    if shared and not staff.has_role("supervisor"):
        raise Forbidden("only supervisors share views")
    view = SavedView(staff_id=staff.id, name=_name(name), queue=queue, query=_query(query), shared=bool(shared))
    with UnitOfWork() as uow:
        owned = db.session.scalar(select(func.count()).select_from(SavedView).where(SavedView.staff_id == staff.id))
        if owned >= MAX_VIEWS:
            raise ValidationFailed("too many saved views", {"name": [f"at most {MAX_VIEWS} views; delete one first"]})
        db.session.add(view)
        uow.commit()
    return view


def may_change(staff: Staff, view: SavedView) -> bool:
    """Whether ``staff`` may rename or delete ``view``: its owner, or a
    supervisor when it is shared."""
    return view.staff_id == staff.id or (view.shared and staff.has_role("supervisor"))


def _editable(staff: Staff, view_id: int) -> SavedView:
    view = db.session.get(SavedView, view_id)
    # Someone else's personal view does not exist for this staff member.
    if view is None or not (view.shared or view.staff_id == staff.id):
        raise NotFound(f"no saved view {view_id}")
    if not may_change(staff, view):
        raise Forbidden("only its owner or a supervisor changes a shared view")
    return view


def rename_view(staff: Staff, view_id: int, name: str) -> SavedView:
    """Rename view ``view_id`` (404 unknown or another's personal one, 403
    a shared one for an agent who does not own it, 422 a blank name)."""
    with UnitOfWork() as uow:
        view = _editable(staff, view_id)
        view.name = _name(name)
        uow.commit()
    return view


def delete_view(staff: Staff, view_id: int) -> None:
    """Delete view ``view_id`` (same permissions as ``rename_view``)."""
    with UnitOfWork() as uow:
        db.session.delete(_editable(staff, view_id))
        uow.commit()
