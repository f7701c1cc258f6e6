"""The caller's own notices (staff token): list them, mark them read.

The same notices as the console's bell (``service.usecases.notifications``):
each staff member sees and changes only their own.
"""
from __future__ import annotations

import marshmallow as ma
from flask_smorest import Blueprint
from marshmallow import fields, validate

from service.api.schemas import ID
from service.domain.errors import ValidationFailed
from service.models import NOTICE_KINDS
from service.reads import notifications as reads
from service.reads.read_only import read_only
from service.usecases import notifications
from service.usecases.auth import authenticate, current_staff, require_role

blp = Blueprint("notifications", __name__, url_prefix="/api/v1/notifications",
                description="The caller's own notices: customer replies, rejected resolutions, bad survey "
                            "answers, assignments and SLA steps on the tickets they answer for.")
blp.before_request(authenticate)


class NotificationArgs(ma.Schema):
    unread = fields.Boolean(load_default=False, metadata={"description": "only the unread ones"})
    before = fields.Integer(validate=ID, metadata={"description": "only notices older than this id (next page)"})
    limit = fields.Integer(validate=validate.Range(min=1, max=100), load_default=50)


class NotificationOut(ma.Schema):
    id = fields.Integer()
    kind = fields.String(metadata={"description": "one of " + ", ".join(NOTICE_KINDS)})
    ticket = fields.Function(lambda n: n.ticket.number if n.ticket is not None else None, allow_none=True,
                             metadata={"description": "the ticket's number"})
    subject = fields.Function(lambda n: n.ticket.subject if n.ticket is not None else None, allow_none=True)
    actor = fields.String(allow_none=True, metadata={"description": "who caused it (a person's name); "
                                                                   "null for kefu itself"})
    created_at = fields.DateTime()
    read_at = fields.DateTime(allow_none=True)
    emailed_at = fields.DateTime(allow_none=True)


class NotificationPage(ma.Schema):
    items = fields.List(fields.Nested(NotificationOut))
    unread = fields.Integer(metadata={"description": "how many of the caller's notices are unread"})


class MarkReadIn(ma.Schema):
    ids = fields.List(fields.Integer(validate=ID), validate=validate.Length(min=1, max=500),
                      metadata={"description": "the notices to mark read (the caller's own)"})
    all = fields.Boolean(metadata={"description": "true: mark every notice of the caller read"})


class MarkReadOut(ma.Schema):
    marked = fields.Integer(metadata={"description": "how many notices changed from unread to read"})
    unread = fields.Integer()


@blp.route("", methods=["GET"])
@require_role("agent", "finance")
@read_only
@blp.arguments(NotificationArgs(), location="query")
@blp.response(200, NotificationPage)
def list_notifications(args):
    """The caller's notices, newest first (``before`` pages back)."""
    staff = current_staff()
    items = reads.notices(staff, limit=args["limit"], before=args.get("before"), unread_only=args["unread"])
    return {"items": items, "unread": reads.unread_count(staff)}


@blp.route("/read", methods=["POST"])
@require_role("agent", "finance")
@blp.arguments(MarkReadIn())
@blp.response(200, MarkReadOut)
def mark_read(data):
    """Mark the caller's notices read: ``ids``, or ``all: true`` (one of the two)."""
    if bool(data.get("ids")) == bool(data.get("all")):
        raise ValidationFailed("give ids or all: true", {"ids": ["give ids or all: true, not both"]})
    staff = current_staff()
    marked = notifications.mark_read(staff, ids=data.get("ids") if not data.get("all") else None)
    return {"marked": marked, "unread": reads.unread_count(staff)}
