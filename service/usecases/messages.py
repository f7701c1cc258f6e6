"""Message use cases: replies and notes on a ticket, and attachments."""
from __future__ import annotations

import hashlib
import logging
import mimetypes
import os
import secrets
from typing import BinaryIO, Iterable, NamedTuple

from flask import current_app

from service.domain.actors import Actor
from service.domain.errors import Conflict, ValidationFailed
from service.extensions import db
from service.models import Attachment, Message, Ticket
from service.models.base import utcnow
from service.reads import lookup
from service.storage import StorageUnavailable, storage
from service.usecases import history
from service.usecases.tickets import check_version, move, note_first_response
from service.usecases.uow import UnitOfWork

log = logging.getLogger("kefu.messages")


def add_message(ticket: Ticket | str, body: str, actor: Actor, internal: bool = False,
                email_message_id: str | None = None) -> Message:
    """Add a public reply or (staff only) an internal note to a ticket.

    ``ticket`` is a Ticket or a number; ``actor`` staff, the customer, the
    system or a plugin (its name is kept as the author). A customer's message on a ticket that
    waits on them moves it back to ``in_progress``; customers cannot write on
    closed or cancelled tickets (409). Blank bodies answer 422.
    ``email_message_id``: the Message-ID of the e-mail that brought it.
    """
    with UnitOfWork() as uow:
        if isinstance(ticket, str):
            ticket = lookup.ticket_by_number(ticket)
        body = (body or "").strip()
        if not body:
            raise ValidationFailed("the message is empty", {"body": ["must not be blank"]})
        if actor.type == "customer":
            internal = False
            if ticket.status in ("closed", "cancelled"):
                raise Conflict(f"ticket {ticket.number} is {ticket.status}; please file a new one",
                               current_status=ticket.status, allowed_actions=[])
        now = utcnow()
        message = Message(ticket_id=ticket.id, author_type=actor.type, body=body, internal=internal,
                          staff_id=actor.id if actor.type == "staff" else None, created_at=now,
                          author_name=(actor.name or "")[:120] or None if actor.type == "plugin" else None,
                          email_message_id=email_message_id)
        db.session.add(message)
        db.session.flush()
        ticket.updated_at = now
        if actor.type == "staff" and not internal:
            note_first_response(ticket, "reply", now)
        history.record(ticket, actor, "note_added" if internal else "message_added", message_id=message.id)
        if actor.type == "customer" and ticket.status == "waiting_on_customer":
            move(ticket, "customer_reply", {}, actor, uow, now)
        uow.emit("message_added", ticket=ticket, message=message, actor=actor)
        uow.commit()
    return message


# What may follow a reply in the same submit (the console's reply box).
REPLY_THEN = ("resolve", "wait")


def reply(ticket: Ticket | str, body: str, actor: Actor, *, internal: bool = False, then: str | None = None,
          version: int | None = None, files: Iterable[tuple[str, str, BinaryIO]] = ()) -> Message:
    """A reply or note with its files, and optionally a workflow step, all
    in one transaction: the console's "Send reply", "Send and resolve",
    "Send and wait for the customer" and "Add internal note".

    ``then``: None, "resolve" (the reply's text becomes the resolution) or
    "wait"; a step needs the ticket's current ``version`` (409
    ``StaleVersion`` otherwise) and a public reply (422 naming
    ``internal``). ``files``: ``(filename, content_type, stream)`` each,
    checked as ``store_attachment`` checks them before anything is written
    (422 naming ``files``) and linked to the message. Whatever is refused -
    a file, a stale version, an illegal step, a guard - nothing is written
    and nothing is sent; hooks fire after the commit.
    """
    if then is not None and then not in REPLY_THEN:
        raise ValidationFailed(f"unknown step {then!r}", {"then": [f"must be one of {', '.join(REPLY_THEN)}"]})
    if then is not None and internal:
        raise ValidationFailed("an internal note does not move the ticket",
                               {"internal": ["a step goes with a public reply"]})
    uploads = [check_upload(name, kind, stream, field="files") for name, kind, stream in files]
    kept: list[Attachment] = []
    try:
        with UnitOfWork() as uow:
            if isinstance(ticket, str):
                ticket = lookup.ticket_by_number(ticket)
            if then is not None:
                check_version(ticket, version)
            message = add_message(ticket, body, actor, internal)
            if then is not None:
                values = {"resolution": body} if then == "resolve" else {}
                move(ticket, then, values, actor, uow)
            for upload in uploads:
                kept.append(_keep(ticket, upload, actor, message))
            uow.commit()
    except BaseException:
        # The files stored for a reply that was not written name no row.
        if not uow.committed:
            backend = storage()
            for attachment in kept:
                _discard(backend, attachment.storage_key)
        raise
    return message


class Upload(NamedTuple):
    """A checked upload: its clean ``filename``, ``content_type`` and bytes."""

    filename: str
    content_type: str
    data: bytes


def check_upload(filename: str, content_type: str, stream, field: str = "file") -> Upload:
    """Read and check an uploaded file: a name, a type in ``ATTACHMENT_TYPES``
    agreeing with the name's extension, at most ``ATTACHMENT_MAX_BYTES``.
    422 ``ValidationFailed`` naming ``field`` otherwise."""
    config = current_app.config
    filename = os.path.basename(filename or "").strip()[:255]
    if not filename:
        raise ValidationFailed("the file has no name", {field: ["a file name is required"]})
    guessed = mimetypes.guess_type(filename)[0]
    content_type = (content_type or "").split(";")[0].strip().lower()
    if content_type not in config["ATTACHMENT_TYPES"] or guessed != content_type:
        raise ValidationFailed(f"files of type {content_type or guessed or 'unknown'} are not accepted",
                               {field: [f"type must be one of {', '.join(config['ATTACHMENT_TYPES'])} "
                                        "and match the file name"]})
    data = stream.read(config["ATTACHMENT_MAX_BYTES"] + 1)
    if len(data) > config["ATTACHMENT_MAX_BYTES"]:
        raise ValidationFailed("the file is too large", {field: [f"at most {config['ATTACHMENT_MAX_BYTES']} bytes"]})
    return Upload(filename, content_type, data)


def store_attachment(ticket: Ticket | str, filename: str, content_type: str, stream, actor: Actor,
                     message: Message | None = None) -> Attachment:
    """Keep an uploaded file for a ticket, in the attachment store (``service.storage``).

    The file must pass ``check_upload`` (type in ``ATTACHMENT_TYPES`` agreeing
    with the file name's extension, at most ``ATTACHMENT_MAX_BYTES``).
    Errors answer 422 naming ``file``; nothing is stored then. A store that cannot
    be reached raises ``StorageUnavailable`` (503) before any row is
    written. The bytes are stored first, then the row in its own
    transaction; when that transaction fails the stored object is deleted
    again. (Joined to an outer unit of work, a failure of the outer unit
    after this returns leaves an object no row names: never served, only
    wasted space.) ``message``: the message the file came with, if any.
    """
    if isinstance(ticket, str):
        ticket = lookup.ticket_by_number(ticket)
    return _keep(ticket, check_upload(filename, content_type, stream), actor, message)


def _keep(ticket: Ticket, upload: Upload, actor: Actor, message: Message | None = None) -> Attachment:
    digest = hashlib.sha256(upload.data).hexdigest()
    key = f"{ticket.id}/{secrets.token_hex(8)}-{digest[:16]}"
    backend = storage()
    backend.put(key, upload.data, upload.content_type)
    uow = UnitOfWork()
    try:
        with uow:
            attachment = Attachment(ticket_id=ticket.id, filename=upload.filename,
                                    content_type=upload.content_type, size=len(upload.data), sha256=digest,
                                    storage_key=key, uploaded_by=actor.type,
                                    message_id=message.id if message is not None else None)
            db.session.add(attachment)
            db.session.flush()
            history.record(ticket, actor, "attachment_added", attachment_id=attachment.id, filename=upload.filename)
            uow.commit()
    except BaseException:
        # No stored object for a row that was never written (also when a
        # worker is stopped mid-way); a row committed before a later error
        # keeps its file.
        if not uow.committed:
            _discard(backend, key)
        raise
    return attachment


def _discard(backend, key: str) -> None:
    try:
        backend.delete(key)
    except StorageUnavailable:
        # The transaction's own error matters more; the object is unreferenced.
        log.warning("attachment object %s could not be deleted after a failed transaction", key)


def open_attachment(attachment: Attachment) -> BinaryIO:
    """A readable binary stream of ``attachment``'s bytes (the caller closes
    it). ``StoredFileMissing`` (404) when the store has no such file,
    ``StorageUnavailable`` (503) when the store cannot be reached."""
    return storage().open(attachment.storage_key)
