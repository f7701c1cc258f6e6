"""Canned replies (macros) as staff see them: which they may use, which they
may manage, and one by id with the same rules.

Who may use a macro: its owner (personal), the staff of its department
(shared by a department), everyone (shared by all); only active ones.
Who may manage (create, edit, delete) one: the owner their personal ones;
supervisors of the department and admins a department's; supervisors and
admins those shared by all. Nobody sees another person's personal macros.
"""
from __future__ import annotations

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import selectinload

from service.domain.errors import Forbidden, NotFound
from service.extensions import db
from service.models import Macro


def _usable_clause(staff):
    shared_by_all = and_(Macro.owner_id.is_(None), Macro.department_id.is_(None))
    mine = Macro.owner_id == staff.id
    if staff.department_id is None:
        return or_(mine, shared_by_all)
    return or_(mine, Macro.department_id == staff.department_id, shared_by_all)


def may_manage(staff, macro: Macro) -> bool:
    """Whether ``staff`` may edit or delete ``macro`` (see the module)."""
    return may_manage_scope(staff, macro.scope, macro.owner_id, macro.department_id)


def may_manage_scope(staff, scope: str, owner_id: int | None, department_id: int | None) -> bool:
    """Whether ``staff`` may own a macro of ``scope`` (personal: only as its
    ``owner_id``; department: of ``department_id``)."""
    if scope == "personal":
        return owner_id == staff.id
    if staff.role == "admin":
        return True
    if staff.role != "supervisor":
        return False
    return scope == "all" or department_id == staff.department_id


def may_use(staff, macro: Macro) -> bool:
    """Whether ``staff`` may apply ``macro``: active and theirs, their department's or everyone's."""
    if not macro.active:
        return False
    if macro.scope == "personal":
        return macro.owner_id == staff.id
    return macro.scope == "all" or macro.department_id == staff.department_id


def _loaded():
    return select(Macro).options(selectinload(Macro.department), selectinload(Macro.set_department),
                                 selectinload(Macro.owner))


def usable_macros(staff) -> list[Macro]:
    """The active macros ``staff`` may apply: their own first, then their
    department's, then everyone's; by name within each."""
    rows = db.session.scalars(_loaded().where(Macro.active.is_(True), _usable_clause(staff))).all()
    order = {"personal": 0, "department": 1, "all": 2}
    return sorted(rows, key=lambda m: (order[m.scope], m.name.casefold(), m.id))


def offered_macros(staff) -> list:
    """What the ticket page's picker offers ``staff``: ``usable_macros`` as
    rows of ``id``, ``name``, ``name_zh``, ``owner_id``, ``department_id``
    and ``set_status`` only, in one
    statement (the picker is on every ticket page; it shows no relations)."""
    rows = db.session.execute(select(Macro.id, Macro.name, Macro.name_zh, Macro.owner_id, Macro.department_id, Macro.set_status)
                              .where(Macro.active.is_(True), _usable_clause(staff))).all()
    # Personal first, then the department's, then everyone's (Macro.scope's order).
    return sorted(rows, key=lambda m: (0 if m.owner_id is not None else 1 if m.department_id is not None else 2,
                                       m.name.casefold(), m.id))


def listed_macros(staff) -> list[Macro]:
    """What the management page and ``?manageable=true`` list: the macros
    ``staff`` may use or manage, inactive ones included (an admin sees every
    department's shared macros; nobody another person's personal ones)."""
    clause = _usable_clause(staff)
    if staff.role == "admin":
        clause = or_(Macro.owner_id == staff.id, Macro.owner_id.is_(None))
    rows = db.session.scalars(_loaded().where(clause)).all()
    order = {"personal": 0, "department": 1, "all": 2}
    return sorted(rows, key=lambda m: (order[m.scope], m.name.casefold(), m.id))


def macro_for(staff, macro_id: int, manage: bool = False) -> Macro:
    """Macro ``macro_id`` when ``staff`` may see it (use it, or with
    ``manage`` manage it); ``NotFound`` when they may not see it - another
    person's personal macro is not told apart from one that does not exist -
    and ``Forbidden`` when they see it but may not manage it."""
    macro = db.session.get(Macro, macro_id) if 0 < macro_id < 2**31 else None
    if macro is None or macro.scope == "personal" and macro.owner_id != staff.id:
        raise NotFound(f"no macro {macro_id}")
    if not (may_use(staff, macro) or may_manage(staff, macro)):
        raise NotFound(f"no macro {macro_id}")
    if manage and not may_manage(staff, macro):
        raise Forbidden(f"your role may not change macro {macro_id}")
    return macro
