"""Mail for staff notices (``service.usecases.notifications``).

The ``mail.staff_notices`` job sends the mail of each notice once (an
``effect_once`` key per notice, and ``emailed_at`` set with it), in the
staff member's language, with a link to the ticket in the console. A
notice whose staff member has since turned mail off, left, or whose mail
went out already sends nothing.
"""
from __future__ import annotations

from service import links
from service.extensions import db
from service.jobs import effects
from service.mail.outgoing import compose
from service.mail.outgoing.send import deliver
from service.models import Notification
from service.models.base import utcnow


def send_staff_notices(ids: list[int]) -> dict:
    """The ``mail.staff_notices`` job: mail notices ``ids``, in order, each
    once; returns how many went which way. A failure raises (the retry
    skips the mails already sent)."""
    results: dict[str, int] = {}
    for notice_id in ids:
        outcome = send_staff_notice(int(notice_id))
        results[outcome] = results.get(outcome, 0) + 1
    return results


def send_staff_notice(notice_id: int) -> str:
    """Mail notice ``notice_id`` to its staff member; returns what happened."""
    notice = db.session.get(Notification, notice_id)
    if notice is None or notice.emailed_at is not None:
        return "already sent" if notice is not None else "no notice"
    staff, ticket = notice.staff, notice.ticket
    if staff is None or not staff.active or staff.notify_mail != "each" or ticket is None:
        return "no recipient"
    key = f"mail:notice:{notice.id}"
    with effects.effect_once(key) as go:
        if not go:
            return "already sent"
        email = compose.build(
            number=ticket.number, to=(staff.name, staff.email), notice="staff_notice",
            lang=compose.mail_language(staff.language), key=key, ticket=ticket, staff=staff,
            kind=notice.kind, actor=notice.actor, detail=notice.detail,
            links=[("console", links.external_url("console_ticket.show", number=ticket.number))])
        outcome = deliver(email)
        # Committed with the effect's "done" mark (effect_once), once.
        notice.emailed_at = utcnow()
        return outcome
