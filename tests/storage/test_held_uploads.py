"""Files kept from a refused reply (service.usecases.held_uploads): kept for
their owner and ticket only, taken back byte for byte, forgotten once sent,
swept when nobody sent them again."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from service.domain.errors import ValidationFailed
from service.extensions import db
from service.models import HeldUpload, Ticket
from service.storage import StoredFileMissing, storage
from service.usecases import held_uploads
from service.usecases.messages import Upload

PHOTO = Upload("door.png", "image/png", b"\x89PNG\r\n\x1a\n" + b"\x00" * 64)


def _ticket(number):
    return db.session.scalar(select(Ticket).where(Ticket.number == number))


def test_kept_files_come_back_for_their_owner_and_ticket_only(app, make_staff, file_ticket):
    me, _ = make_staff("agent")
    other, _ = make_staff("agent")
    ticket, elsewhere = _ticket(file_ticket()["number"]), _ticket(file_ticket()["number"])
    [row] = held_uploads.hold(ticket, me, [PHOTO])
    assert row.storage_key.startswith(f"held/{ticket.id}/") and row.size == len(PHOTO.data)
    assert held_uploads.take(held_uploads.kept_for(ticket, me, [str(row.id)])) == [PHOTO]
    for staff, on, ids in ((other, ticket, [row.id]), (me, elsewhere, [row.id]), (me, ticket, ["x1"]),
                           (me, ticket, [row.id + 1])):
        with pytest.raises(ValidationFailed) as refused:
            held_uploads.kept_for(on, staff, ids)
        assert "files" in refused.value.fields
    held_uploads.release([row])
    assert db.session.scalar(select(func.count()).select_from(HeldUpload)) == 0
    with pytest.raises(StoredFileMissing):
        storage().open(row.storage_key)
    with pytest.raises(ValidationFailed):  # sent once: not kept any more
        held_uploads.kept_for(ticket, me, [row.id])


def test_the_sweep_deletes_what_nobody_sent_again(app, make_staff, file_ticket):
    me, _ = make_staff("agent")
    ticket = _ticket(file_ticket()["number"])
    old, fresh = held_uploads.hold(ticket, me, [PHOTO, PHOTO._replace(filename="label.png")])
    old.created_at -= timedelta(hours=app.config["HELD_UPLOAD_HOURS"], minutes=1)
    db.session.commit()
    with pytest.raises(ValidationFailed):  # too old to send
        held_uploads.kept_for(ticket, me, [old.id])
    assert held_uploads.sweep() == 1
    assert db.session.scalars(select(HeldUpload.id)).all() == [fresh.id]
    with pytest.raises(StoredFileMissing):
        storage().open(old.storage_key)
    with storage().open(fresh.storage_key) as kept:
        assert kept.read() == PHOTO.data
