"""Files kept from a refused reply (``service.models.held_upload``).

``hold`` keeps a refused reply's checked uploads for the staff member and
ticket; the page shows them as boxes to keep; ``take`` turns the kept ones
back into uploads for the next try (only the owner's, only for that ticket,
only while kept); ``release`` forgets them once the reply is written;
``sweep`` (the ``uploads.sweep_held`` job) deletes what nobody sent again
within ``HELD_UPLOAD_HOURS``. ``KeptFiles`` puts them together around one
reply.
"""
from __future__ import annotations

import hashlib
import io
import logging
import secrets
from contextlib import contextmanager
from datetime import timedelta

from flask import current_app
from sqlalchemy import select

from service.domain.errors import ValidationFailed
from service.extensions import db
from service.models import HeldUpload, Staff, Ticket
from service.models.base import utcnow
from service.storage import StorageUnavailable, StoredFileMissing, storage
from service.usecases.messages import Upload, check_upload
from service.usecases.uow import UnitOfWork

log = logging.getLogger("kefu.uploads")

GONE = "a kept file is no longer kept (sent already, or kept too long); choose it again"


def _max_age() -> timedelta:
    return timedelta(hours=current_app.config["HELD_UPLOAD_HOURS"])


def hold(ticket: Ticket, staff: Staff, uploads: list[Upload]) -> list[HeldUpload]:
    """Keep ``uploads`` (already checked) for ``staff``'s next try on
    ``ticket``: stored, then one row each, committed. A store that cannot
    be reached keeps nothing (the page then asks for the files again)."""
    if not uploads:
        return []
    backend, stored = storage(), []
    try:
        for upload in uploads:
            digest = hashlib.sha256(upload.data).hexdigest()
            key = f"held/{ticket.id}/{secrets.token_hex(8)}-{digest[:16]}"
            backend.put(key, upload.data, upload.content_type)
            stored.append(HeldUpload(staff_id=staff.id, ticket_id=ticket.id, filename=upload.filename,
                                     content_type=upload.content_type, size=len(upload.data), sha256=digest,
                                     storage_key=key))
    except StorageUnavailable:
        log.warning("could not keep the files of a refused reply on ticket %s", ticket.number)
        _delete_objects(row.storage_key for row in stored)
        return []
    with UnitOfWork() as uow:
        db.session.add_all(stored)
        uow.commit()
    return stored


def kept_for(ticket: Ticket, staff: Staff, ids) -> list[HeldUpload]:
    """The rows of ``ids`` that ``staff`` kept for ``ticket`` and that are
    still kept, in the order given; 422 naming ``files`` for any other id."""
    wanted = []
    for raw in ids:
        if not str(raw).isdigit() or int(raw) >= 2**31:
            raise ValidationFailed("not a kept file", {"files": [GONE]})
        wanted.append(int(raw))
    if not wanted:
        return []
    rows = {row.id: row for row in db.session.scalars(select(HeldUpload).where(
        HeldUpload.id.in_(wanted), HeldUpload.staff_id == staff.id, HeldUpload.ticket_id == ticket.id,
        HeldUpload.created_at > utcnow() - _max_age()))}
    if len(rows) != len(set(wanted)):
        raise ValidationFailed("a kept file is gone", {"files": [GONE]})
    return [rows[i] for i in dict.fromkeys(wanted)]


def take(rows: list[HeldUpload]) -> list[Upload]:
    """The bytes of kept ``rows`` as uploads again (422 naming ``files`` when
    the store lost one; 503 while it cannot be reached)."""
    backend, out = storage(), []
    for row in rows:
        try:
            stream = backend.open(row.storage_key)
            try:
                data = stream.read()
            finally:
                stream.close()
        except StoredFileMissing:
            raise ValidationFailed("a kept file is gone", {"files": [GONE]}) from None
        out.append(Upload(row.filename, row.content_type, data))
    return out


def release(rows: list[HeldUpload]) -> None:
    """Forget kept ``rows`` (their reply was written: the files are its attachments now)."""
    if not rows:
        return
    keys = [row.storage_key for row in rows]
    with UnitOfWork() as uow:
        for row in rows:
            db.session.delete(row)
        uow.commit()
    _delete_objects(keys)


def sweep() -> int:
    """``uploads.sweep_held``: delete the files kept longer than
    ``HELD_UPLOAD_HOURS`` (nobody sent their reply again), at most 1,000 a
    run (the job is hourly); how many."""
    old = db.session.scalars(select(HeldUpload).where(HeldUpload.created_at <= utcnow() - _max_age())
                             .limit(1000)).all()
    release(list(old))
    return len(old)


def _delete_objects(keys) -> None:
    backend = storage()
    for key in keys:
        try:
            backend.delete(key)
        except StorageUnavailable:
            # Unreferenced now: never served, only space; the row is what counts.
            log.warning("kept file %s could not be deleted", key)


class KeptFiles:
    """A reply's files across a refusal, for the console's reply form.

    ``with KeptFiles(ticket, staff).around(held_ids, sent) as files:`` gives
    the files to send - the kept ones ticked (``held_ids``), then the ones
    chosen now (``sent``: ``(filename, content_type, stream)`` each, checked
    here) - as ``messages.reply`` takes them. Leaving the block normally
    (the reply was written) forgets the kept ones. Leaving it with a refusal
    that is not about the files (a stale version, an illegal step, a guard)
    keeps the new ones too; ``held`` then lists every file the refused page
    offers again, and the refusal goes on up.
    """

    def __init__(self, ticket: Ticket, staff: Staff):
        self.ticket, self.staff = ticket, staff
        self.held: list[HeldUpload] = []

    @contextmanager
    def around(self, held_ids, sent):
        uploads: list[Upload] = []
        try:
            self.held = kept_for(self.ticket, self.staff, held_ids)
            uploads = [check_upload(name, kind, stream, field="files") for name, kind, stream in sent]
            yield [(u.filename, u.content_type, io.BytesIO(u.data)) for u in take(self.held) + uploads]
        except Exception as exc:
            if "files" not in (getattr(exc, "fields", None) or {}):
                self.held = self.held + hold(self.ticket, self.staff, uploads)
            raise
        release(self.held)
