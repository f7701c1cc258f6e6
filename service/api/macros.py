"""Canned replies (macros) for staff: list, create, read, edit, delete, and
apply one to a ticket (preview or send). Load -> use case -> dump; the rules
are in ``service.usecases.macros`` and ``service.reads.macros``."""
from __future__ import annotations

import marshmallow as ma
from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import fields, validate

from service.api.schemas import CODE, MessageOut, TicketOut, when
from service.api.text import filled
from service.api.tickets import _present
from service.domain.placeholders import PLACEHOLDERS
from service.models import PRIORITIES
from service.reads.macros import listed_macros, macro_for, may_manage, usable_macros
from service.reads.read_only import read_only
from service.usecases import macros
from service.usecases.auth import authenticate, current_staff, require_role

blp = Blueprint("macros", __name__, url_prefix="/api/v1",
                description="Canned replies (macros): personal or shared, applied to tickets (staff).")
blp.before_request(authenticate)

_BODY = ("in the customer's language; placeholders: " + ", ".join("{" + p + "}" for p in PLACEHOLDERS)
         + "; {{ and }} for literal braces")


class MacroIn(ma.Schema):
    name = fields.String(required=True, validate=filled(120))
    name_zh = fields.String(validate=validate.Length(max=120), allow_none=True, load_default=None,
                            metadata={"description": "its name in the Chinese console (default: name)"})
    body_en = fields.String(validate=validate.Length(max=20000), allow_none=True, load_default=None,
                            metadata={"description": "English text " + _BODY})
    body_zh = fields.String(validate=validate.Length(max=20000), allow_none=True, load_default=None,
                            metadata={"description": "Chinese text " + _BODY})
    scope = fields.String(validate=validate.OneOf(macros.SCOPES), load_default="personal", metadata={
        "description": "personal (yours), department (supervisors of it, admins) or all (supervisors, admins)"})
    department = fields.String(validate=CODE, allow_none=True, load_default=None, metadata={
        "description": "the department sharing it (scope department; default: yours)"})
    set_status = fields.String(validate=validate.OneOf(macros.MACRO_ACTIONS), allow_none=True, load_default=None,
                               metadata={"description": "a workflow action taken after the reply "
                                                        "(resolve: the reply is the resolution)"})
    set_priority = fields.String(validate=validate.OneOf(PRIORITIES), allow_none=True, load_default=None)
    set_department = fields.String(validate=CODE, allow_none=True, load_default=None,
                                   metadata={"description": "a department the ticket moves to"})
    active = fields.Boolean(load_default=True)


class MacroPatch(ma.Schema):
    version = fields.Integer(strict=True, required=True)
    name = fields.String(validate=filled(120))
    name_zh = fields.String(validate=validate.Length(max=120), allow_none=True)
    body_en = fields.String(validate=validate.Length(max=20000), allow_none=True)
    body_zh = fields.String(validate=validate.Length(max=20000), allow_none=True)
    scope = fields.String(validate=validate.OneOf(macros.SCOPES))
    department = fields.String(validate=CODE, allow_none=True)
    set_status = fields.String(validate=validate.OneOf(macros.MACRO_ACTIONS), allow_none=True)
    set_priority = fields.String(validate=validate.OneOf(PRIORITIES), allow_none=True)
    set_department = fields.String(validate=CODE, allow_none=True)
    active = fields.Boolean()


class MacroOut(ma.Schema):
    id = fields.Integer()
    name = fields.String()
    name_zh = fields.String(allow_none=True)
    body_en = fields.String(allow_none=True)
    body_zh = fields.String(allow_none=True)
    scope = fields.String(metadata={"description": "personal, department or all"})
    owner = fields.Method("_owner", metadata={"description": "the owner of a personal macro"})
    department = fields.Method("_department")
    set_status = fields.String(allow_none=True)
    set_priority = fields.String(allow_none=True)
    set_department = fields.Method("_set_department")
    active = fields.Boolean()
    can_edit = fields.Boolean(metadata={"description": "whether the caller may edit or delete it"})
    version = fields.Integer()
    created_at = when()
    updated_at = when()

    def _owner(self, m):
        return {"id": m.owner.id, "name": m.owner.name} if m.owner else None

    def _department(self, m):
        return m.department.code if m.department else None

    def _set_department(self, m):
        return m.set_department.code if m.set_department else None


class MacroListArgs(ma.Schema):
    manageable = fields.Boolean(load_default=False, metadata={
        "description": "also the inactive ones and (admins) every department's: what the caller may manage"})


class ApplyIn(ma.Schema):
    send = fields.Boolean(load_default=False, metadata={"description": "false: only render (preview)"})
    version = fields.Integer(strict=True, load_default=None, metadata={"description": "the ticket's; required to send"})
    body = fields.String(validate=filled(20000), load_default=None,
                         metadata={"description": "the agent's edited text, sent instead of the rendered one"})


class ActionOut(ma.Schema):
    kind = fields.String(metadata={"description": "priority, department or status"})
    value = fields.String()
    possible = fields.Boolean(metadata={"description": "whether the ticket allows it now"})


class ApplyOut(ma.Schema):
    text = fields.String()
    language = fields.String()
    actions = fields.List(fields.Nested(ActionOut))
    sent = fields.Boolean()
    message = fields.Nested(MessageOut, allow_none=True)
    ticket = fields.Nested(TicketOut)


def _shown(macro, staff):
    macro.can_edit = may_manage(staff, macro)
    return macro


@blp.route("/macros")
class MacroCollection(MethodView):
    @require_role("agent")
    @read_only
    @blp.arguments(MacroListArgs(), location="query")
    @blp.response(200, MacroOut(many=True))
    def get(self, args):
        """The macros the caller may use (their own, their department's,
        everyone's); with ``manageable=true`` those they may manage too."""
        staff = current_staff()
        rows = listed_macros(staff) if args["manageable"] else usable_macros(staff)
        return [_shown(m, staff) for m in rows]

    @require_role("agent")
    @blp.arguments(MacroIn())
    @blp.response(201, MacroOut)
    def post(self, data):
        """Save a macro; 422 naming every wrong field (an unknown placeholder
        by name), 403 for a shared scope the caller's role may not own."""
        staff = current_staff()
        return _shown(macros.create_macro(staff, data), staff)


@blp.route("/macros/<int(max=2147483647):macro_id>")
class MacroItem(MethodView):
    @require_role("agent")
    @read_only
    @blp.response(200, MacroOut)
    def get(self, macro_id):
        """One macro the caller may use or manage."""
        staff = current_staff()
        return _shown(macro_for(staff, macro_id), staff)

    @require_role("agent")
    @blp.arguments(MacroPatch())
    @blp.response(200, MacroOut)
    def patch(self, data, macro_id):
        """Change some fields; needs the current ``version`` (409 when stale)."""
        staff = current_staff()
        version = data.pop("version")
        return _shown(macros.update_macro(staff, macro_id, version, data), staff)

    @require_role("agent")
    @blp.response(204)
    def delete(self, macro_id):
        """Delete a macro the caller may manage (replies sent with it stay)."""
        macros.delete_macro(current_staff(), macro_id)


@blp.route("/tickets/<number>/macros/<int(max=2147483647):macro_id>/apply", methods=["POST"])
@require_role("agent")
@blp.arguments(ApplyIn())
@blp.response(200, ApplyOut)
def apply(data, number, macro_id):
    """Render a macro for a ticket in the customer's language (``send``
    false), or send it as a public reply and take its actions in one step
    (``send`` true, with the ticket's ``version``): a refused action sends nothing."""
    staff = current_staff()
    if data["send"]:
        applied = macros.apply(number, macro_id, staff, data["version"], data["body"])
    else:
        applied = macros.preview(number, macro_id, staff)
    return {"text": applied.text, "language": applied.language, "sent": applied.message is not None,
            "message": applied.message, "ticket": _present(applied.ticket, staff),
            "actions": [{"kind": k, "value": v, "possible": p} for k, v, p in applied.actions]}
