"""Key-account owners and the notices they get.

A customer's account owner is a staff member (an agent or a supervisor)
who answers for the relationship: care tickets are assigned to them, and
they hear (a notice in their list and a mail, once each) of their
customers' new tickets, SLA breaches, bad survey answers and health level
changes.

**Customers of the top tiers without an owner** are left unassigned: an
owner is a person answerable for a customer, so only a supervisor names
one (``PUT /api/v1/customers/{id}/owner``); a care ticket for such a
customer goes to the care department's queue (``HEALTH_CARE_DEPARTMENT``),
where a supervisor sees it. Assigning round-robin would make someone
answerable for customers they were never told about.
"""
from __future__ import annotations

import logging

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from service import sdk

from .care_models import AccountOwner, OwnerNotice
from .care_texts import NOTICE_SUBJECTS, notice_text, speaking

log = logging.getLogger("kefu.relationship_health")
OWNER_ROLES = ("agent", "supervisor")  # who serves customers; admins and finance do not own accounts
MAIL_JOB = "relationship_health.owner_mail"
NOTICE_LIMIT = 100


def owner_of(customer_id: int) -> sdk.Staff | None:
    """The customer's account owner (an active staff member), or None."""
    staff_id = sdk.db.session.scalar(select(AccountOwner.staff_id).where(AccountOwner.customer_id == customer_id))
    if staff_id is None:
        return None
    staff = sdk.db.session.get(sdk.Staff, staff_id)
    return staff if staff is not None and staff.active else None


def describe(customer_id: int) -> dict:
    """``{"customer_id", "owner": {"id", "name", "email", "role"} or None,
    "assigned_at"}``; 404 for no such customer."""
    sdk.get_customer(customer_id)
    row = sdk.db.session.get(AccountOwner, customer_id)
    staff = sdk.db.session.get(sdk.Staff, row.staff_id) if row is not None else None
    return {"customer_id": customer_id, "assigned_at": row.assigned_at if row is not None else None,
            "owner": None if staff is None else {"id": staff.id, "name": staff.name, "email": staff.email,
                                                 "role": staff.role, "active": staff.active}}


def set_owner(customer_id: int, staff_id: int | None, by: sdk.Staff) -> dict:
    """Make ``staff_id`` the customer's account owner (None: nobody), as
    supervisor ``by``. 404 for no such customer; 422 naming ``staff_id`` for
    an unknown or inactive staff member, or one whose role cannot own
    (agents and supervisors can)."""
    with sdk.UnitOfWork() as uow:
        sdk.hold_customer(customer_id)
        if staff_id is not None:
            staff = sdk.db.session.get(sdk.Staff, staff_id)
            if staff is None or not staff.active:
                raise sdk.ValidationFailed(f"no active staff member {staff_id}",
                                           {"staff_id": ["no active staff member with this id"]})
            if staff.role not in OWNER_ROLES:
                raise sdk.ValidationFailed(f"a {staff.role} cannot own an account",
                                           {"staff_id": [f"must be an {' or a '.join(OWNER_ROLES)}, "
                                                         f"not a {staff.role}"]})
        row = sdk.db.session.get(AccountOwner, customer_id)
        if staff_id is None:
            if row is not None:
                sdk.db.session.delete(row)
        elif row is None:
            sdk.db.session.add(AccountOwner(customer_id=customer_id, staff_id=staff_id, assigned_at=sdk.utcnow(),
                                            assigned_by=by.id))
        elif row.staff_id != staff_id:
            row.staff_id, row.assigned_at, row.assigned_by = staff_id, sdk.utcnow(), by.id
        uow.commit()
    return describe(customer_id)


def notify(customer_id: int, kind: str, key: str, params: dict, ticket_id: int | None = None) -> bool:
    """Tell the customer's owner (if any) that ``kind`` happened: a notice in
    their list and a mail, once per ``key`` however often it is called.
    ``params`` fill the notice's text (``care_texts.NOTICE_TEXTS``). Its own
    unit of work: call it after the change that caused it committed (a
    notification hook). Returns whether a new notice was recorded."""
    with sdk.UnitOfWork() as uow:
        staff = owner_of(customer_id)
        if staff is None:
            return False
        customer = sdk.db.session.get(sdk.Customer, customer_id)
        row = OwnerNotice(key=key[:160], staff_id=staff.id, customer_id=customer_id, kind=kind,
                          params={"customer": customer.name if customer else str(customer_id), **params},
                          ticket_id=ticket_id, created_at=sdk.utcnow())
        try:
            with sdk.db.session.begin_nested():
                sdk.db.session.add(row)
                sdk.db.session.flush()
        except IntegrityError:  # the same event again: noticed already
            return False
        sdk.enqueue(MAIL_JOB, dedupe_key=f"rh-notice:{row.key}", notice_id=row.id)
        uow.commit()
    return True


def mail_job(notice_id: int) -> str:
    """``relationship_health.owner_mail``: mail notice ``notice_id`` to its
    owner, in their language, once (``effect_once``) however often it runs."""
    row = sdk.db.session.get(OwnerNotice, notice_id)
    if row is None:
        return "gone"
    staff = sdk.db.session.get(sdk.Staff, row.staff_id)
    if staff is None or not staff.active or not staff.email:
        return "no recipient"
    key = f"mail:rh-notice:{row.key}"
    with sdk.effect_once(key) as go:
        if not go:
            return "already sent"
        lang = sdk.mail_language(staff.language)
        with speaking(staff.language):
            text, subject = notice_text(row.kind, row.params), str(NOTICE_SUBJECTS.get(row.kind, row.kind))
        ticket = sdk.db.session.get(sdk.Ticket, row.ticket_id) if row.ticket_id is not None else None
        return sdk.send_mail(notice="account_notice", to=(staff.name, staff.email), lang=lang, key=key,
                             ticket=ticket, owner=staff, text=text, title=subject)


def notices(staff: sdk.Staff, unread_only: bool = False, limit: int = NOTICE_LIMIT) -> list[dict]:
    """``staff``'s notices, newest first, each with its text in the reader's language."""
    stmt = select(OwnerNotice).where(OwnerNotice.staff_id == staff.id).order_by(OwnerNotice.id.desc()).limit(limit)
    if unread_only:
        stmt = stmt.where(OwnerNotice.read_at.is_(None))
    rows = sdk.db.session.scalars(stmt).all()
    return [{"id": r.id, "kind": r.kind, "customer_id": r.customer_id,
             "customer_name": (r.params or {}).get("customer"),
             "ticket": sdk.ticket_number(r.ticket_id) if r.ticket_id is not None else None,
             "text": notice_text(r.kind, r.params), "created_at": r.created_at, "read_at": r.read_at}
            for r in rows]


def mark_read(staff: sdk.Staff, notice_id: int) -> dict:
    """Mark ``staff``'s notice read (again: unchanged); 404 for a notice that
    is not theirs, so nobody learns of another's notices."""
    with sdk.UnitOfWork() as uow:
        row = sdk.db.session.get(OwnerNotice, notice_id)
        if row is None or row.staff_id != staff.id:
            raise sdk.NotFound(f"no notice {notice_id}")
        if row.read_at is None:
            row.read_at = sdk.utcnow()
        uow.commit()
    return {"id": row.id, "read_at": row.read_at}


def mark_all_read(staff: sdk.Staff) -> int:
    """Mark every unread notice of ``staff`` read, in one statement; returns how many."""
    with sdk.UnitOfWork() as uow:
        marked = sdk.db.session.execute(
            update(OwnerNotice).where(OwnerNotice.staff_id == staff.id, OwnerNotice.read_at.is_(None))
            .values(read_at=sdk.utcnow()).execution_options(synchronize_session=False)).rowcount
        uow.commit()
    return marked
