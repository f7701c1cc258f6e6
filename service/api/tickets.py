"""Staff ticket endpoints: load -> use case -> dump."""
from __future__ import annotations

import marshmallow as ma
from flask import request, send_file
from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import fields

from service.api.schemas import (
    AttachmentOut,
    BulkIn,
    BulkOut,
    EventOut,
    MessageIn,
    MessageOut,
    RemedyDecisionIn,
    TicketCreate,
    TicketListArgs,
    TicketOut,
    TicketPage,
    TicketPatch,
    TicketShowArgs,
    TransitionIn,
)
from service.domain.actors import Actor
from service.domain.errors import KefuError, ValidationFailed
from service.domain.workflow import IllegalTransition, MissingFields, allowed_actions
from service.reads import listing
from service.reads.listed import shown_ticket
from service.reads.lookup import ticket_by_number
from service.reads.panels import ticket_panels as panels_of
from service.reads.read_only import read_only
from service.usecases import bulk, messages, opening, recovery, remedies, tickets
from service.usecases.auth import authenticate, current_staff, require_role

blp = Blueprint("tickets", __name__, url_prefix="/api/v1/tickets",
                description="Tickets through listen, confirm, handle and feed back (staff).")
blp.before_request(authenticate)


def _present(ticket, staff, panels=False):
    """Attach what depends on the viewer: the actions they may take, plugin panels."""
    ticket.allowed_actions = allowed_actions(ticket.status, "staff", staff.role)
    if panels:
        ticket.panels = panels_of(ticket, staff)
    return ticket


# Argument schemas are given as instances throughout the API: given a class,
# webargs builds the schema anew on every request.
@blp.route("")
class TicketCollection(MethodView):
    @require_role("agent", "finance")
    @read_only
    @blp.arguments(TicketListArgs(), location="query")
    @blp.response(200, TicketPage)
    def get(self, args):
        """List tickets, newest first, filtered; follow ``next_cursor`` for the next page."""
        limit, cursor = args.pop("limit"), args.pop("cursor", None)
        items, next_cursor = listing.list_tickets(args, limit, cursor)
        staff = current_staff()
        return {"items": [_present(t, staff) for t in items], "next_cursor": next_cursor}

    @require_role("agent")
    @blp.arguments(TicketCreate())
    @blp.response(201, TicketOut)
    def post(self, data):
        """Open a ticket for a known customer (``customer_id``) or a contact."""
        staff = current_staff()
        channel = data.pop("channel")
        # The customer's token is theirs alone (their mail links with its own): not made here.
        ticket, _ = opening.open_ticket(data, Actor.staff(staff), channel, sign_token=False)
        return _present(ticket, staff)


def _bulk_error(exc: Exception) -> tuple[int, dict]:
    """One ticket's refusal as the status and error the single-ticket call answers with."""
    if isinstance(exc, IllegalTransition):
        return 409, {"code": "illegal_transition", "message": str(exc), "current_status": exc.status,
                     "fields": {"action": [f"not allowed when {exc.status}"]}, "allowed_actions": exc.allowed}
    if isinstance(exc, MissingFields):
        return 422, {"code": "validation_failed", "message": str(exc), "fields": exc.fields}
    if isinstance(exc, KefuError):
        return exc.status, {"code": exc.code, "message": exc.message, "fields": exc.fields, **exc.extra}
    raise exc


@blp.route("/bulk", methods=["POST"])
@require_role("agent")
@blp.arguments(BulkIn())
@blp.response(207, BulkOut)
def bulk_action(data):
    """Apply one action to many tickets (``tickets``: number and version each):
    an edit (``assignee``, ``priority``, ``department``, ``category``) or a
    workflow step with its fields. Each ticket goes through the same checks
    as alone (version, workflow, guards) in its own transaction; one
    refusal does not stop the others. 207: ``results`` has each ticket's
    ``status`` (200, or the 404/409/422 it would have had) and ``error``."""
    items = [bulk.BulkItem(t["number"], t["version"]) for t in data.pop("tickets")]
    action = data.pop("action")
    outcomes = bulk.apply_to_each(items, action, data, Actor.staff(current_staff()))
    results = []
    for outcome in outcomes:
        status, error = (200, None) if outcome.done else _bulk_error(outcome.error)
        results.append({"number": outcome.number, "ok": outcome.done, "status": status, "error": error,
                        "followup": outcome.followup})
    return {"done": sum(o.done for o in outcomes), "refused": sum(not o.done for o in outcomes),
            "results": results}


@blp.route("/<number>")
class TicketItem(MethodView):
    @require_role("agent", "finance")
    @read_only
    @blp.arguments(TicketShowArgs(), location="query")
    @blp.response(200, TicketOut)
    def get(self, args, number):
        """One ticket, with the actions the caller may take; with ``panels=true``
        also the plugins' panels for the agent's view."""
        # Panels hand the ticket to plugins, which get the ORM ticket; a plain
        # read needs only what it shows.
        ticket = ticket_by_number(number, view=True) if args["panels"] else shown_ticket(number)
        return _present(ticket, current_staff(), panels=args["panels"])

    @require_role("agent")
    @blp.arguments(TicketPatch())
    @blp.response(200, TicketOut)
    def patch(self, data, number):
        """Edit priority, category, department or assignee; needs the current ``version``."""
        staff = current_staff()
        version = data.pop("version")
        return _present(tickets.update_ticket(number, version, data, Actor.staff(staff)), staff)


@blp.route("/<number>/transitions", methods=["POST"])
@require_role("agent")
@blp.arguments(TransitionIn())
@blp.response(200, TicketOut)
def transition(data, number):
    """Move a ticket: confirm (department), start, wait, resolve (resolution),
    reopen (reason), close, cancel (reason; supervisor). 409 when not allowed."""
    staff = current_staff()
    action, version = data.pop("action"), data.pop("version")
    ticket, followup = tickets.transition(number, action, version, data, Actor.staff(staff))
    ticket.followup = followup
    return _present(ticket, staff)


@blp.route("/<number>/remedy", methods=["POST"])
@require_role("supervisor", "finance")
@blp.arguments(RemedyDecisionIn())
@blp.response(200, TicketOut)
def decide_remedy(data, number):
    """Approve or refuse a remedy waiting for approval, saying why. The remedy's
    ``approver`` decides: supervisor (supervisors, admins) or finance (finance
    staff, admins); 403 for another role, 409 when nothing waits or for a stale version."""
    staff = current_staff()
    ticket = remedies.decide_remedy(number, data["decision"], data["reason"], data["version"], staff)
    return _present(ticket, staff)


@blp.route("/<number>/messages")
class TicketMessages(MethodView):
    @require_role("agent", "finance")
    @read_only
    @blp.response(200, MessageOut(many=True))
    def get(self, number):
        """Public replies and internal notes, oldest first."""
        return listing.ticket_messages(ticket_by_number(number), include_internal=True)

    @require_role("agent")
    @blp.arguments(MessageIn())
    @blp.response(201, MessageOut)
    def post(self, data, number):
        """Reply to the customer, or add an internal note (``internal: true``)."""
        return messages.add_message(number, data["body"], Actor.staff(current_staff()), data["internal"])


class NewLinkOut(ma.Schema):
    tracking_url = fields.String(metadata={"description": "the customer's new link (read it out on the phone); "
                                                          "earlier links stop working"})
    mailed = fields.Boolean(metadata={"description": "true when it was also mailed to the customer's address"})


@blp.route("/<number>/tracking-link", methods=["POST"])
@require_role("agent")
@blp.response(201, NewLinkOut)
def new_tracking_link(number):
    """Give the customer a new link to follow the ticket (they lost theirs):
    the old links stop working; the new one is mailed when the customer has
    an e-mail address, and answered here to read out on the phone."""
    url, mailed = recovery.send_new_link(ticket_by_number(number), Actor.staff(current_staff()))
    return {"tracking_url": url, "mailed": mailed}


@blp.route("/<number>/history", methods=["GET"])
@require_role("agent", "finance")
@read_only
@blp.response(200, EventOut(many=True))
def history(number):
    """Every change, decision and plugin error on the ticket, oldest first."""
    return listing.ticket_history(ticket_by_number(number))


@blp.route("/<number>/attachments")
class TicketAttachments(MethodView):
    @require_role("agent", "finance")
    @read_only
    @blp.response(200, AttachmentOut(many=True))
    def get(self, number):
        """Files attached to the ticket."""
        return listing.ticket_attachments(ticket_by_number(number))

    @require_role("agent")
    @blp.response(201, AttachmentOut)
    @blp.alt_response(503, response="SERVICE_UNAVAILABLE")  # the attachment store is down
    @blp.doc(requestBody={"required": True, "content": {"multipart/form-data": {"schema": {
        "type": "object", "required": ["file"],
        "properties": {"file": {"type": "string", "format": "binary"}}}}}})
    def post(self, number):
        """Attach a file (multipart field ``file``); type and size are checked."""
        upload = request.files.get("file")
        if upload is None:
            raise ValidationFailed("no file sent", {"file": ["send the file as multipart field 'file'"]})
        return messages.store_attachment(number, upload.filename, upload.mimetype, upload.stream,
                                         Actor.staff(current_staff()))


@blp.route("/<number>/attachments/<int(max=2147483647):attachment_id>", methods=["GET"])
@require_role("agent", "finance")
@blp.response(200, content_type="application/octet-stream")
@blp.alt_response(503, response="SERVICE_UNAVAILABLE")  # the attachment store is down
def download(number, attachment_id):
    """Download an attachment, as a file (never shown inline), streamed from
    the attachment store: 404 when its file is missing there, 503 while the
    store cannot be reached."""
    attachment = listing.ticket_attachment(ticket_by_number(number), attachment_id)
    response = send_file(messages.open_attachment(attachment), mimetype=attachment.content_type,
                         as_attachment=True, download_name=attachment.filename)
    response.content_length = attachment.size
    # send_file marks it no-cache; a customer's file must not be kept at all.
    response.headers["Cache-Control"] = "no-store"
    return response
