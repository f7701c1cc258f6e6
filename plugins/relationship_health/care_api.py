"""The account-owner API (staff).

==========================================  ===========  ====================================
route                                        role         does
==========================================  ===========  ====================================
GET    /api/v1/customers/{id}/owner          agent        the customer's account owner
PUT    /api/v1/customers/{id}/owner          supervisor   name the owner (``staff_id``; null: none)
GET    /api/v1/account-notices               agent        my notices about my customers, newest first
POST   /api/v1/account-notices/{id}/read     agent        mark one of my notices read
==========================================  ===========  ====================================

The blueprint also carries the plugin's mail templates (``templates/mail``).
Views are thin: load, call the use case (``owners``), dump.
"""
from __future__ import annotations

from datetime import timezone

import marshmallow as ma
from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import fields, validate

from service import sdk

from . import owners

blp = Blueprint("relationship_health_owners", __name__, url_prefix="/api/v1", template_folder="templates",
                description="Key-account owners and their notices (relationship_health).")
blp.before_request(sdk.authenticate)
ID = validate.Range(min=1, max=2**31 - 1, error="must be a positive id")


def _when(**kw):
    return fields.AwareDateTime(default_timezone=timezone.utc, **kw)


class AccountOwnerIn(ma.Schema):
    staff_id = fields.Integer(required=True, allow_none=True, strict=True, validate=ID,
                              metadata={"description": "an active agent or supervisor; null: no owner"})


class AccountOwnerStaffOut(ma.Schema):
    id = fields.Integer()
    name = fields.String()
    email = fields.String()
    role = fields.String()
    active = fields.Boolean()


class AccountOwnerOut(ma.Schema):
    customer_id = fields.Integer()
    owner = fields.Nested(AccountOwnerStaffOut, allow_none=True, metadata={"description": "null: no owner (care tickets go "
                                                                              "to HEALTH_CARE_DEPARTMENT)"})
    assigned_at = _when(allow_none=True)


class AccountNoticesArgs(ma.Schema):
    unread = fields.Boolean(load_default=False, metadata={"description": "only those not read yet"})


class AccountNoticeOut(ma.Schema):
    id = fields.Integer()
    kind = fields.String(metadata={"description": "ticket_created, sla_breached, survey_bad, health_changed, "
                                                  "care_opened"})
    customer_id = fields.Integer()
    ticket = fields.String(allow_none=True, metadata={"description": "the ticket's number, if about one"})
    text = fields.String(metadata={"description": "in the request's language"})
    created_at = _when()
    read_at = _when(allow_none=True)


class AccountNoticesOut(ma.Schema):
    items = fields.List(fields.Nested(AccountNoticeOut))


class AccountNoticeReadOut(ma.Schema):
    id = fields.Integer()
    read_at = _when()


@blp.route("/customers/<int(max=2147483647):customer_id>/owner")
class OwnerView(MethodView):
    @sdk.require_role("agent")
    @blp.response(200, AccountOwnerOut)
    def get(self, customer_id):
        """The customer's account owner (null when none); 404 for no such customer."""
        return owners.describe(customer_id)

    @sdk.require_role("supervisor")
    @blp.arguments(AccountOwnerIn())
    @blp.response(200, AccountOwnerOut)
    def put(self, data, customer_id):
        """Name the customer's account owner, or none (``{"staff_id": null}``);
        422 naming ``staff_id`` for an unknown or inactive staff member or a
        role that cannot own (agents and supervisors can)."""
        return owners.set_owner(customer_id, data["staff_id"], sdk.current_staff())


@blp.route("/account-notices", methods=["GET"])
@sdk.require_role("agent")
@blp.arguments(AccountNoticesArgs, location="query")
@blp.response(200, AccountNoticesOut)
def get_notices(args):
    """The caller's notices about the customers they own (new tickets, SLA
    breaches, bad survey answers, health changes, care tickets), newest
    first, at most 100."""
    return {"items": owners.notices(sdk.current_staff(), unread_only=args["unread"])}


@blp.route("/account-notices/<int(max=2147483647):notice_id>/read", methods=["POST"])
@sdk.require_role("agent")
@blp.response(200, AccountNoticeReadOut)
def post_read(notice_id):
    """Mark one of the caller's notices read; 404 for one that is not theirs."""
    return owners.mark_read(sdk.current_staff(), notice_id)
