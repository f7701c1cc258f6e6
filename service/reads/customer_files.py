"""The files of a case its customer may see on the tracking page.

Their own uploads (the tracking page, the web form, their e-mails) and the
files on the service team's public replies. Not files on internal notes,
nor files staff attached without a message (a scan an agent filed, a
document for colleagues): what staff did not send to the customer stays
with staff. A customer only ever reaches a file through their case's
private link (``service.web.customer``), and only that case's files.
"""
from __future__ import annotations

from sqlalchemy import and_, or_, select

from service.domain.errors import NotFound
from service.extensions import db
from service.models import Attachment, Message, Ticket


def _shown(ticket: Ticket):
    return (select(Attachment).outerjoin(Message, Message.id == Attachment.message_id)
            .where(Attachment.ticket_id == ticket.id,
                   or_(Attachment.uploaded_by == "customer",
                       and_(Attachment.message_id.is_not(None), Message.internal.is_(False)))))


def customer_files(ticket: Ticket) -> list[Attachment]:
    """``ticket``'s files its customer may see (see the module), oldest first."""
    return db.session.scalars(_shown(ticket).order_by(Attachment.id)).all()


def customer_file(ticket: Ticket, attachment_id: int) -> Attachment:
    """File ``attachment_id`` when ``ticket``'s customer may see it;
    ``NotFound`` (404) otherwise - another case's file and a staff-only one
    answer alike, so the link tells nothing about files it does not show."""
    attachment = db.session.scalar(_shown(ticket).where(Attachment.id == attachment_id))
    if attachment is None:
        raise NotFound(f"no file {attachment_id} on this case")
    return attachment
