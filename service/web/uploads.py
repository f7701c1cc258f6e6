"""Files sent with a page's form (several per field): checked before
anything is written, so a refused file is named in the same round as the
form's other errors; kept after the ticket is saved, each on its own, so a
file that fails then never loses the ticket.

The checks and the limits are the API's (``messages.check_upload``:
``ATTACHMENT_TYPES``, ``ATTACHMENT_MAX_BYTES``); the request as a whole is
capped by ``MAX_CONTENT_LENGTH`` (a 413 page).
"""
from __future__ import annotations

import hashlib
import io
import mimetypes
import os
from dataclasses import dataclass

from flask import current_app, request
from sqlalchemy import select

from service.domain.actors import Actor
from service.domain.errors import KefuError, ValidationFailed
from service.extensions import db
from service.models import Attachment, Ticket
from service.storage import StorageUnavailable
from service.translate import gettext as _
from service.usecases import messages
from service.web.pages import error_message

MAX_FILES = 10  # per form: a page's upload is a few photos or scans, not an archive


@dataclass(frozen=True)
class Upload:
    """A file that passed the checks, read whole (at most ``ATTACHMENT_MAX_BYTES``)."""

    filename: str
    content_type: str
    data: bytes


def accept() -> str:
    """The ``accept`` attribute of a file input: the allowed types (a phone
    offers its camera and photos for the image types)."""
    return ",".join(current_app.config["ATTACHMENT_TYPES"])


def allowed_text() -> str:
    """The allowed file name endings and the size limit, for a hint under the input."""
    # File formats' names (PNG, PDF, ...) read the same in both languages.
    endings = sorted({(mimetypes.guess_extension(t) or "").lstrip(".").upper()
                      for t in current_app.config["ATTACHMENT_TYPES"]} - {""})
    return _("Up to %(count)d files: %(types)s; at most %(size)s each.", count=MAX_FILES,
             types=", ".join(endings), size=size_text(current_app.config["ATTACHMENT_MAX_BYTES"]))


def size_text(size: int) -> str:
    """A file size as people read it in either language: ``5 MB``, ``12.5 KB``."""
    if size >= 1024 * 1024:
        return f"{size / (1024 * 1024):.3g} MB"
    return f"{max(size / 1024, 0.1):.3g} KB"


def _reason(exc: ValidationFailed) -> str:
    """``check_upload``'s refusal in the page's language."""
    if exc.message.startswith("the file is too large"):
        return _("larger than %(size)s", size=size_text(current_app.config["ATTACHMENT_MAX_BYTES"]))
    if exc.message.startswith("the file has no name"):
        return _("the file has no name")
    return _("this type of file is not accepted")


def sent(field: str) -> bool:
    """Whether the form sent any file in ``field`` (a page shown again cannot keep them)."""
    return any(f.filename for f in request.files.getlist(field) if f is not None)


def read_files(field: str) -> tuple[list[Upload], list[str]]:
    """The files sent in form field ``field`` (an input left empty sends
    none), checked: ``(uploads, refusals)``, a refusal naming its file and
    the reason in the page's language."""
    sent = [f for f in request.files.getlist(field) if f is not None and f.filename]
    if len(sent) > MAX_FILES:
        return [], [_("At most %(count)d files at a time.", count=MAX_FILES)]
    uploads, refusals = [], []
    for part in sent:
        try:
            filename, content_type, data = messages.check_upload(part.filename, part.mimetype, part.stream, field)
        except ValidationFailed as exc:
            refusals.append(_("File %(file)s: %(reason)s", file=os.path.basename(part.filename),
                              reason=_reason(exc)))
        else:
            uploads.append(Upload(filename, content_type, data))
    return uploads, refusals


def keep_files(ticket: Ticket, uploads: list[Upload], actor: Actor) -> list[str]:
    """Store ``uploads`` on ``ticket`` (after it was saved), each in its own
    transaction; answer the refusals of those that could not be kept (the
    store down), naming each file. The others, and the ticket, stay. A
    file the ticket has already (same name and content: the same form sent
    again, which ``request_key`` answers with the same ticket) is not kept twice."""
    refusals = []
    kept = {tuple(row) for row in db.session.execute(select(Attachment.filename, Attachment.sha256)
                                  .where(Attachment.ticket_id == ticket.id)).all()}
    for upload in uploads:
        if (upload.filename, hashlib.sha256(upload.data).hexdigest()) in kept:
            continue
        try:
            messages.store_attachment(ticket, upload.filename, upload.content_type, io.BytesIO(upload.data), actor)
        except StorageUnavailable:
            refusals.append(_("File %(file)s: %(reason)s", file=upload.filename,
                              reason=_("not attached, the file store is not available; please try again later")))
        except ValidationFailed as exc:
            refusals.append(_("File %(file)s: %(reason)s", file=upload.filename,
                              reason=_("not attached: %(reason)s", reason=_reason(exc))))
        except KefuError as exc:
            refusals.append(_("File %(file)s: %(reason)s", file=upload.filename,
                              reason=_("not attached: %(reason)s", reason=error_message(exc))))
    return refusals
