"""The mail quarantine for admins: inbound mail kefu kept but did not take in."""
from __future__ import annotations

import marshmallow as ma
from flask import Response
from flask_smorest import Blueprint
from marshmallow import fields, validate
from sqlalchemy import func, select

from service.api.schemas import when
from service.domain.errors import NotFound, ValidationFailed
from service.extensions import db
from service.mail.incoming.inbound import release_quarantined, remove_quarantined
from service.models import QuarantinedMail
from service.usecases.auth import authenticate, require_role

blp = Blueprint("mail", __name__, url_prefix="/api/v1/admin/mail/quarantine",
                description="Inbound mail kept in the quarantine, with the reason (admins).")
blp.before_request(authenticate)


class QuarantineArgs(ma.Schema):
    limit = fields.Integer(validate=validate.Range(min=1, max=100), load_default=25)
    cursor = fields.String(validate=validate.Regexp(r"^[0-9]{1,10}$", error="must be a cursor from next_cursor"),
                           metadata={"description": "next_cursor of the previous page"})


class QuarantinedOut(ma.Schema):
    id = fields.Integer()
    received_at = when()
    source = fields.String(metadata={"description": "smtp, imap or cli"})
    sender = fields.String(allow_none=True)
    subject = fields.String(allow_none=True)
    reason = fields.String()
    size = fields.Integer(metadata={"description": "bytes of the raw mail"})


class ReleasedOut(ma.Schema):
    action = fields.String(metadata={"description": "opened, replied, or duplicate (taken in before)"})
    number = fields.String(allow_none=True, metadata={"description": "the ticket it is on"})
    notes = fields.List(fields.String(), metadata={"description": "attachments refused, if any"})


class QuarantinePage(ma.Schema):
    items = fields.List(fields.Nested(QuarantinedOut))
    next_cursor = fields.String(allow_none=True)


def _row(mail_id: int) -> QuarantinedMail:
    row = db.session.get(QuarantinedMail, mail_id)
    if row is None:
        raise NotFound(f"no quarantined mail {mail_id}", {"mail_id": ["not found"]})
    return row


@blp.route("", methods=["GET"])
@require_role("admin")
@blp.arguments(QuarantineArgs(), location="query")
@blp.response(200, QuarantinePage)
def list_quarantine(args):
    """Quarantined mails, newest first (without the raw bytes); follow ``next_cursor``."""
    limit = args["limit"]
    stmt = (select(QuarantinedMail.id, QuarantinedMail.received_at, QuarantinedMail.source,
                   QuarantinedMail.sender, QuarantinedMail.subject, QuarantinedMail.reason,
                   func.length(QuarantinedMail.raw).label("size"))
            .order_by(QuarantinedMail.id.desc()).limit(limit + 1))
    if args.get("cursor"):
        before = int(args["cursor"])
        if before > 2**31 - 1:
            raise ValidationFailed("cursor out of range", {"cursor": ["must be a cursor from next_cursor"]})
        stmt = stmt.where(QuarantinedMail.id < before)
    rows = [dict(r._mapping) for r in db.session.execute(stmt)]
    more = len(rows) > limit
    rows = rows[:limit]
    return {"items": rows, "next_cursor": str(rows[-1]["id"]) if more else None}


@blp.route("/<int(max=2147483647):mail_id>", methods=["DELETE"])
@require_role("admin")
@blp.response(204)
def delete_quarantined(mail_id):
    """Remove a quarantined mail once it has been dealt with."""
    remove_quarantined(mail_id)


@blp.route("/<int(max=2147483647):mail_id>/raw", methods=["GET"])
@require_role("admin")
@blp.response(200, content_type="message/rfc822")
def raw_mail(mail_id):
    """The mail as received (an .eml file), to read or to feed back with ``kefu mail take``."""
    row = _row(mail_id)
    return Response(bytes(row.raw), mimetype="message/rfc822",
                    headers={"Content-Disposition": f'attachment; filename="quarantine-{row.id}.eml"'})


@blp.route("/<int(max=2147483647):mail_id>/release", methods=["POST"])
@require_role("admin")
@blp.response(200, ReleasedOut)
@blp.alt_response(404, schema=None, description="no such quarantined mail")
@blp.alt_response(409, schema=None, description="another check than the sender's still refuses it")
def release(mail_id):
    """Take in a quarantined mail whose sender the admin vouches for (e.g. one
    held as "sender not verified"), then remove it from the quarantine."""
    outcome = release_quarantined(mail_id)
    return {"action": outcome.action, "number": outcome.number, "notes": outcome.notes or []}
