"""Staff notices: who hears of what on a ticket, in the console and by mail.

The people who answer for a ticket are its assignee; an unassigned
ticket's are the active agents and supervisors of its department and the
department's supervisor; a ticket without a department, every active
supervisor. They hear when a customer replies, rejects a resolution or
answers a survey badly, when a ticket is assigned to them (by someone
else) and when an SLA step fires (``notify_staff``, through ``sdk``). No
one hears of their own action.

``after_commit`` is a unit-of-work listener (``uow.add_listener``): once a
change has committed it turns what the change emitted into notices, in a
transaction of its own, and asks for the mails (``mail.staff_notices``,
sent once each in the staff member's language) for those who take mail.
A failure here never undoes the change that caused it.
"""
from __future__ import annotations

from sqlalchemy import select, update

from service.domain.actors import Actor
from service.extensions import db
from service.jobs import registry as jobs
from service.models import (
    MAIL_PREFERENCES,
    NOTICE_KINDS,
    Department,
    Notification,
    Staff,
    Ticket,
    TicketView,
)
from service.models.base import upsert, utcnow
from service.usecases.uow import UnitOfWork, active_unit

MEMO = "staff_notices"  # UnitOfWork.remember topic of notify_staff
MAIL_BATCH = 200  # notices per mail job: a job stays short, a retry repeats little
ANSWERING_ROLES = ("agent", "supervisor")


def notify_staff(ticket: Ticket, kind: str, actor: Actor, also=(), detail: str | None = None) -> None:
    """Tell the people who answer for ``ticket`` (and the staff ids in
    ``also``) of ``kind`` (one of ``NOTICE_KINDS``), caused by ``actor``,
    once the current unit of work commits: a console notice each and,
    per their preference, a mail with ``detail`` (the caller's words, shown
    in the mail only). Call it inside a ``UnitOfWork``; ``ValueError`` for
    an unknown kind or outside a unit. A rolled-back change tells no one."""
    if kind not in NOTICE_KINDS:
        raise ValueError(f"notice kind {kind!r} is not one of {', '.join(NOTICE_KINDS)}")
    unit = active_unit()
    if unit is None:
        raise ValueError("notify_staff must be called inside a UnitOfWork")
    unit.remember(MEMO, {"ticket": ticket, "kind": kind, "actor": actor,
                         "also": [int(s) for s in also if s], "detail": detail})


def responsible_staff(ticket: Ticket) -> list[int]:
    """The ids of the active staff who answer for ``ticket`` (see the module's rule)."""
    if ticket.assignee_id is not None:
        return list(db.session.scalars(select(Staff.id).where(Staff.id == ticket.assignee_id,
                                                              Staff.active.is_(True))))
    if ticket.department_id is None:
        return list(db.session.scalars(select(Staff.id).where(Staff.active.is_(True), Staff.role == "supervisor")
                                       .order_by(Staff.id)))
    members = list(db.session.scalars(
        select(Staff.id).where(Staff.active.is_(True), Staff.department_id == ticket.department_id,
                               Staff.role.in_(ANSWERING_ROLES)).order_by(Staff.id)))
    supervisor = db.session.scalar(
        select(Staff.id).join(Department, Department.supervisor_id == Staff.id)
        .where(Department.id == ticket.department_id, Staff.active.is_(True)))
    return list(dict.fromkeys(members + ([supervisor] if supervisor else [])))


def _actor_text(actor: Actor | None) -> str | None:
    # Only people's names reach the page: a plugin's or the system's
    # internal name is a code, shown as "kefu" by the console instead.
    if actor is not None and actor.type in ("staff", "customer"):
        return actor.name
    return None


def _wanted(pending, memos) -> list[dict]:
    """The notices a committed change asks for, before recipients are known."""
    wanted = []
    for hook, kwargs in pending:
        ticket, actor = kwargs.get("ticket"), kwargs.get("actor")
        if hook == "message_added":
            message = kwargs["message"]
            if message.author_type == "customer" and not message.internal:
                wanted.append({"ticket": ticket, "kind": "customer_replied", "actor": actor})
        elif hook == "resolution_answered":
            if not kwargs["accepted"] and actor is not None and actor.type == "customer":
                wanted.append({"ticket": ticket, "kind": "customer_rejected", "actor": actor})
        elif hook == "ticket_transitioned":
            if kwargs["action"] == "reopen" and actor is not None and actor.type == "customer":
                wanted.append({"ticket": ticket, "kind": "customer_rejected", "actor": actor})
        elif hook == "ticket_updated":
            assignee = (kwargs.get("changes") or {}).get("assignee")
            if assignee and assignee[1]:
                wanted.append({"ticket": ticket, "kind": "assigned", "actor": actor, "only": [int(assignee[1])]})
    return wanted + list(memos.get(MEMO, ()))


def after_commit(pending, events, memos) -> list[Notification]:
    """The unit-of-work listener: write the notices for a committed change
    (one per staff member, ticket and kind however often the change says
    it), never to the person who acted, and queue the mails. Returns them."""
    wanted = _wanted(pending, memos)
    if not wanted:
        return []
    now = utcnow()
    rows, seen = [], set()
    # A sweep's change may touch many tickets of few queues: ask once per queue.
    answering: dict[tuple, list[int]] = {}
    with UnitOfWork() as uow:
        for item in wanted:
            ticket, actor = item["ticket"], item.get("actor")
            queue = (ticket.assignee_id, ticket.department_id)
            if queue not in answering and not item.get("only"):
                answering[queue] = responsible_staff(ticket)
            staff_ids = item.get("only") or answering[queue] + list(item.get("also") or [])
            for staff_id in staff_ids:
                if actor is not None and actor.type == "staff" and actor.id == staff_id:
                    continue  # nobody hears of their own action
                if (staff_id, ticket.id, item["kind"]) in seen:
                    continue
                seen.add((staff_id, ticket.id, item["kind"]))
                rows.append(Notification(staff_id=staff_id, ticket_id=ticket.id, kind=item["kind"],
                                         actor=_actor_text(actor), detail=item.get("detail"), created_at=now))
        if not rows:
            return []
        db.session.add_all(rows)
        db.session.flush()
        mailed = set(db.session.scalars(select(Staff.id).where(
            Staff.id.in_({r.staff_id for r in rows}), Staff.active.is_(True), Staff.notify_mail == "each")))
        ids = [r.id for r in rows if r.staff_id in mailed]
        for start in range(0, len(ids), MAIL_BATCH):
            jobs.enqueue("mail.staff_notices", ids=ids[start:start + MAIL_BATCH])
        uow.commit()
    return rows


def mark_read(staff: Staff, ids: list[int] | None = None, ticket_id: int | None = None) -> int:
    """Mark ``staff``'s own unread notices read: those in ``ids``, or those
    about ``ticket_id``, or (neither given) all of them. One UPDATE; others'
    notices are never touched. Returns how many changed."""
    stmt = update(Notification).where(Notification.staff_id == staff.id, Notification.read_at.is_(None))
    if ids is not None:
        stmt = stmt.where(Notification.id.in_([int(i) for i in ids]))
    if ticket_id is not None:
        stmt = stmt.where(Notification.ticket_id == ticket_id)
    with UnitOfWork() as uow:
        changed = db.session.execute(stmt.values(read_at=utcnow())).rowcount
        uow.commit()
    return changed


def set_mail_preference(staff: Staff, preference: str) -> Staff:
    """Set ``staff``'s mail for notices (``each`` or ``none``); ``ValueError`` otherwise."""
    if preference not in MAIL_PREFERENCES:
        raise ValueError(f"notify_mail must be one of {', '.join(MAIL_PREFERENCES)}")
    with UnitOfWork() as uow:
        staff.notify_mail = preference
        uow.commit()
    return staff


def mark_seen(staff: Staff, ticket: Ticket) -> None:
    """``staff`` opened ``ticket`` now: remember when (one row per pair,
    upserted: two tabs opening it at once do not collide) and mark their
    notices about it read. Called by the console's ticket page."""
    now = utcnow()
    stmt = upsert(TicketView, {"staff_id": staff.id, "ticket_id": ticket.id, "seen_at": now},
                  ("staff_id", "ticket_id"), ("seen_at",))
    with UnitOfWork() as uow:
        db.session.execute(stmt)
        db.session.execute(update(Notification).where(
            Notification.staff_id == staff.id, Notification.ticket_id == ticket.id,
            Notification.read_at.is_(None)).values(read_at=now))
        uow.commit()
