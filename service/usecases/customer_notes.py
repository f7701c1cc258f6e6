"""Staff notes on a customer (the profile's "what to know before the next call")."""
from __future__ import annotations

from service.domain.errors import ValidationFailed
from service.extensions import db
from service.models import CustomerNote
from service.reads.lookup import customer_by_id
from service.usecases.uow import UnitOfWork

NOTE_LIMIT = 4000  # characters: a note, not a document


def add_customer_note(customer_id: int, body: str, staff) -> CustomerNote:
    """Add ``staff``'s note ``body`` (stripped, 1 to ``NOTE_LIMIT``
    characters; 422 naming ``body`` otherwise) to customer ``customer_id``
    (404 when unknown)."""
    text = (body or "").strip()
    if not text:
        raise ValidationFailed("the note is empty", {"body": ["must not be blank"]})
    if len(text) > NOTE_LIMIT:
        raise ValidationFailed("the note is too long", {"body": [f"Longer than maximum length {NOTE_LIMIT}."]})
    with UnitOfWork() as uow:
        customer = customer_by_id(customer_id)
        note = CustomerNote(customer_id=customer.id, staff_id=staff.id, body=text)
        db.session.add(note)
        uow.commit()
    return note
