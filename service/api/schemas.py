"""marshmallow schemas of the staff API: what clients send and what they get.

Loading rejects unknown fields (marshmallow's default RAISE), so a misspelt
field is a 422 naming it rather than silently ignored.
"""
from __future__ import annotations

from datetime import timezone
from decimal import Decimal

import marshmallow as ma
from marshmallow import fields, validate

from service.api.dumping import FastDump
from service.api.text import filled
from service.domain.workflow import STAFF_ACTIONS, STAFF_ROLES, STATUSES, STEP_OF_STATUS
from service.hooks.ticket_codes import OneOfInForce
from service.models import CHANNELS, CUSTOMER_KINDS, KINDS, PRIORITIES
from service.models.ticket import format_number

CODE = validate.Regexp(r"^[a-z0-9_\-]{1,40}$", error="must be a code of a-z, 0-9, _ or -")
CURRENCY = validate.Regexp(r"^[A-Z]{3}$", error="must be a 3-letter ISO currency code such as CNY")
LANGUAGE = validate.OneOf(["en", "zh_CN"])
# Row ids are 32-bit integer columns: a larger id is a 422, never a database overflow (500).
ID = validate.Range(min=1, max=2**31 - 1)
TAG = fields.String(validate=filled(40))
Text = fields.String


def when(**kw):
    return fields.AwareDateTime(default_timezone=timezone.utc, **kw)


class RemedyIn(ma.Schema):
    text = Text(validate=validate.Length(max=2000), load_default=None)
    # ``minimum``/``maximum`` are given as numbers: apispec would otherwise
    # document the bounds as strings ("0.00"), an invalid OpenAPI document.
    amount = fields.Decimal(places=2, validate=validate.Range(min=0, max=Decimal("1000000000")),
                            as_string=True, allow_nan=False, load_default=None,
                            metadata={"minimum": 0, "maximum": 1000000000})
    currency = Text(validate=CURRENCY, load_default=None)

    @ma.validates_schema
    def _amount_has_currency(self, data, **kwargs):
        if data.get("amount") is not None and not data.get("currency"):
            raise ma.ValidationError("required with an amount", "currency")

    @ma.post_load
    def _to_minor(self, data, **kwargs):
        amount = data.pop("amount", None)
        data["amount_minor"] = int(amount * 100) if amount is not None else None
        return data


class ContactIn(ma.Schema):
    name = Text(validate=filled(200), load_default=None)
    email = fields.Email(validate=validate.Length(max=254), load_default=None)
    phone = Text(validate=validate.Regexp(r"^\+?[0-9 ()\-]{5,30}$", error="not a phone number"), load_default=None)
    language = Text(validate=LANGUAGE, load_default="en")


class TicketCreate(ma.Schema):
    customer_id = fields.Integer(strict=True, validate=ID, load_default=None)
    contact = fields.Nested(ContactIn, load_default=None)
    # The core's kinds and channels and those plugins add (register_ticket_codes).
    kind = Text(validate=OneOfInForce("kind"), load_default="complaint", metadata={"description": "one of " + ", ".join(KINDS) + ", or a kind a plugin adds"})
    channel = Text(validate=OneOfInForce("channel"), load_default="api", metadata={"description": "one of " + ", ".join(CHANNELS) + ", or a channel a plugin adds"})
    category = Text(validate=CODE, load_default="other")
    subject = Text(required=True, validate=filled(200))
    description = Text(required=True, validate=filled(20000))
    priority = Text(validate=validate.OneOf(PRIORITIES), load_default="normal")
    department = Text(validate=CODE, load_default=None)
    assignee = fields.Integer(strict=True, validate=ID, load_default=None)
    tags = fields.List(TAG, validate=validate.Length(max=20), load_default=None)
    remedy = fields.Nested(RemedyIn, load_default=None)

    @ma.validates_schema
    def _one_customer(self, data, **kwargs):
        if (data.get("customer_id") is None) == (data.get("contact") is None):
            raise ma.ValidationError("give exactly one of customer_id and contact", "customer_id")


class TicketPatch(ma.Schema):
    version = fields.Integer(strict=True, required=True)
    priority = Text(validate=validate.OneOf(PRIORITIES))
    category = Text(validate=CODE)
    department = Text(validate=CODE, allow_none=True)
    assignee = fields.Integer(strict=True, validate=ID, allow_none=True)
    tags = fields.List(TAG, validate=validate.Length(max=20))

    @ma.validates_schema
    def _something(self, data, **kwargs):
        if len(data) < 2:
            raise ma.ValidationError("give at least one of priority, category, department, assignee, tags",
                                     "version")


class TransitionIn(ma.Schema):
    action = Text(required=True, validate=validate.OneOf(STAFF_ACTIONS))
    version = fields.Integer(strict=True, required=True)
    department = Text(validate=CODE, load_default=None)
    resolution = Text(validate=validate.Length(max=20000), load_default=None)
    reason = Text(validate=validate.Length(max=2000), load_default=None)


class RemedyDecisionIn(ma.Schema):
    decision = Text(required=True, validate=validate.OneOf(["approved", "refused"]))
    reason = Text(required=True, validate=filled(2000))
    version = fields.Integer(strict=True, required=True)


class TicketShowArgs(ma.Schema):
    panels = fields.Boolean(load_default=False, metadata={
        "description": "also gather the plugins' panels for the agent's view (ticket_panels); "
                       "off by default: each plugin may query for its panel"})


class TicketListArgs(ma.Schema):
    status = fields.List(Text(validate=validate.OneOf(STATUSES)))
    priority = fields.List(Text(validate=validate.OneOf(PRIORITIES)))
    kind = fields.List(Text(validate=OneOfInForce("kind")))
    category = Text(validate=CODE)
    department = Text(validate=CODE)
    assignee = fields.Integer(validate=ID)
    customer = fields.Integer(validate=ID)
    overdue = fields.Boolean()
    created_from = when()
    created_to = when()
    q = Text(validate=validate.Length(min=1, max=200))
    limit = fields.Integer(validate=validate.Range(min=1, max=100), load_default=25)
    cursor = Text(validate=validate.Length(max=100))


class MessageIn(ma.Schema):
    body = Text(required=True, validate=filled(20000))
    internal = fields.Boolean(load_default=False)


class NamedRef(FastDump):
    id = fields.Integer()
    name = Text()


class MessageOut(FastDump):
    id = fields.Integer()
    author_type = Text(metadata={"description": "staff, customer, system or plugin"})
    staff_id = fields.Integer(allow_none=True)
    author_name = Text(allow_none=True, metadata={"description": "the plugin's name, for a plugin's message"})
    body = Text()
    internal = fields.Boolean()
    created_at = when()


class RemedyOut(FastDump):
    text = Text(allow_none=True)
    amount = Text(allow_none=True, metadata={"description": "decimal string, e.g. 199.00"})
    currency = Text(allow_none=True)
    decision = Text(allow_none=True)
    reason = Text(allow_none=True)


class SlaOut(FastDump):
    policy = Text(allow_none=True)
    first_response_due = when(allow_none=True)
    resolution_due = when(allow_none=True)


_SLA_OUT = SlaOut()


class PanelRowOut(FastDump):
    label = Text()
    value = fields.Raw(allow_none=True)
    kind = Text(metadata={"description": "text, badge, link, list or time"})
    url = Text(allow_none=True)
    items = fields.List(Text())
    tone = Text(allow_none=True, metadata={"description": "a badge's colour: ok, warn, bad or neutral"})


class PanelOut(FastDump):
    key = Text()
    plugin = Text(metadata={"description": "the plugin that added the panel"})
    title = Text()
    rows = fields.List(fields.Nested(PanelRowOut))
    data = fields.Raw(allow_none=True)
    failed = fields.Boolean(metadata={"description": "true when the plugin could not show its panel "
                                                    "(the title says so)"})


class TicketOut(FastDump):
    number = Text()
    kind = Text()
    channel = Text()
    category = fields.Method("_category")
    subject = Text()
    description = Text()
    priority = Text()
    status = Text()
    step = fields.Method("_step", metadata={"description": "listen, confirm, handle or feed_back"})
    customer = fields.Method("_customer")
    department = fields.Method("_department")
    assignee = fields.Method("_assignee")
    resolution = Text(allow_none=True)
    reason = Text(allow_none=True)
    reopen_count = fields.Integer()
    customer_tier = Text(allow_none=True)
    tags = fields.Method("_tags")
    parent = fields.Method("_parent")
    remedy = fields.Method("_remedy")
    sla = fields.Method("_sla")
    allowed_actions = fields.List(Text())
    panels = fields.List(fields.Nested(PanelOut))
    followup = fields.Method("_followup")
    version = fields.Integer()
    created_at = when()
    confirmed_at = when(allow_none=True)
    first_responded_at = when(allow_none=True, metadata={
        "description": "when the customer got their first response (what counts: setting FIRST_RESPONSE)"})
    started_at = when(allow_none=True)
    waiting_since = when(allow_none=True)
    resolved_at = when(allow_none=True)
    reopened_at = when(allow_none=True)
    closed_at = when(allow_none=True)
    cancelled_at = when(allow_none=True)
    updated_at = when()

    def _category(self, t):
        return t.category.code

    def _step(self, t):
        return STEP_OF_STATUS[t.status]

    def _customer(self, t):
        return {"id": t.customer.id, "name": t.customer.name}

    def _department(self, t):
        return t.department.code if t.department else None

    def _assignee(self, t):
        return {"id": t.assignee.id, "name": t.assignee.name} if t.assignee else None

    def _tags(self, t):
        return list(t.tags or [])

    def _parent(self, t):
        # The number is the id's: no need to load the parent.
        return format_number(t.parent_id) if t.parent_id is not None else None

    def _remedy(self, t):
        if not (t.remedy_text or t.remedy_amount_minor is not None):
            return None
        amount = None if t.remedy_amount_minor is None else f"{Decimal(t.remedy_amount_minor) / 100:.2f}"
        return {"text": t.remedy_text, "amount": amount, "currency": t.remedy_currency,
                "decision": t.remedy_decision, "reason": t.remedy_reason, "approver": t.remedy_approver}

    def _sla(self, t):
        return _SLA_OUT.dump({"policy": t.sla_policy, "first_response_due": t.first_response_due,
                              "resolution_due": t.resolution_due})

    def _followup(self, t):
        f = getattr(t, "followup", None)
        return {"number": f.number, "token": f.new_token} if f is not None else None


class TicketPage(FastDump):
    items = fields.List(fields.Nested(TicketOut))
    next_cursor = Text(allow_none=True)


class EventOut(FastDump):
    id = fields.Integer()
    at = when()
    actor = fields.Method("_actor")
    action = Text()
    from_status = Text(allow_none=True)
    to_status = Text(allow_none=True)
    details = fields.Dict()

    def _actor(self, e):
        return {"type": e.actor_type, "id": e.actor_id, "name": e.actor_name}


class CodeOut(FastDump):
    code = Text()
    name = Text()
    name_zh = Text(allow_none=True)


class DepartmentOut(CodeOut):
    supervisor = fields.Method("_supervisor")

    def _supervisor(self, d):
        return {"id": d.supervisor.id, "name": d.supervisor.name} if d.supervisor else None


class CategoryIn(ma.Schema):
    code = Text(required=True, validate=CODE)
    name = Text(required=True, validate=filled(120))
    name_zh = Text(validate=validate.Length(max=120), load_default=None)


class PluginOut(FastDump):
    name = Text()
    source = Text()
    enabled = fields.Boolean()
    module = Text(allow_none=True)
    hooks = fields.List(Text())


class StaffOut(FastDump):
    id = fields.Integer()
    email = Text()
    name = Text()
    role = Text(validate=validate.OneOf(STAFF_ROLES))
    department = fields.Method("_department")
    active = fields.Boolean()

    def _department(self, s):
        return s.department.code if s.department else None


class CustomerIn(ma.Schema):
    kind = Text(validate=validate.OneOf(CUSTOMER_KINDS), load_default="person")
    name = Text(required=True, validate=filled(200))
    email = fields.Email(validate=validate.Length(max=254), allow_none=True, load_default=None)
    phone = Text(validate=validate.Regexp(r"^\+?[0-9 ()\-]{5,30}$", error="not a phone number"),
                 allow_none=True, load_default=None)
    language = Text(validate=LANGUAGE, load_default="en")
    external_ref = Text(validate=filled(80), allow_none=True, load_default=None)


class CustomerPatch(CustomerIn):
    """Same fields as CustomerIn; used with ``partial=True``."""


class CustomerOut(FastDump):
    id = fields.Integer()
    kind = Text()
    name = Text()
    email = Text(allow_none=True)
    phone = Text(allow_none=True)
    language = Text()
    external_ref = Text(allow_none=True)
    tier = Text(allow_none=True)
    satisfaction_class = Text(allow_none=True, metadata={"description": "loyal, ordinary, complaining or lost "
                                                                        "(from a plugin; None without one)"})
    created_at = when()
    merged_into_id = fields.Integer(allow_none=True, metadata={
        "description": "set when this record was merged into that customer (a duplicate); None otherwise"})


class CustomerMergeIn(ma.Schema):
    from_customer_id = fields.Integer(required=True, strict=True, validate=validate.Range(min=1, max=2**31 - 1),
                                      metadata={"description": "the duplicate record merged into this one"})


class MergeMovedOut(FastDump):
    key = Text()
    label = Text()
    count = fields.Integer()
    plugin = Text(allow_none=True, metadata={"description": "the plugin that moved these rows; None for the core"})


class CustomerMergeOut(FastDump):
    customer = fields.Nested(CustomerOut)
    moved = fields.List(fields.Nested(MergeMovedOut))


class CustomerPage(FastDump):
    items = fields.List(fields.Nested(CustomerOut))
    next_cursor = Text(allow_none=True)


class PageArgs(ma.Schema):
    limit = fields.Integer(validate=validate.Range(min=1, max=100), load_default=25)
    cursor = Text(validate=validate.Length(max=100))
    q = Text(validate=validate.Length(min=1, max=200))


class AttachmentOut(FastDump):
    id = fields.Integer()
    filename = Text()
    content_type = Text()
    size = fields.Integer()
    sha256 = Text()
    created_at = when()


# --------------------------------------------------------------------------- bulk actions

BULK_ACTIONS = ("assignee", "priority", "department", "category") + STAFF_ACTIONS


class BulkTicketIn(ma.Schema):
    number = Text(required=True, validate=validate.Length(min=1, max=30))
    version = fields.Integer(strict=True, required=True)


class BulkIn(ma.Schema):
    """One action for many tickets (``service.usecases.bulk``): an edit
    (``assignee``, ``priority``, ``department``, ``category``, with that field)
    or a workflow step (with the fields it needs)."""

    tickets = fields.List(fields.Nested(BulkTicketIn, unknown=ma.RAISE), required=True,
                          validate=validate.Length(min=1, max=200))
    action = Text(required=True, validate=validate.OneOf(BULK_ACTIONS))
    assignee = fields.Integer(strict=True, validate=ID, allow_none=True)
    priority = Text(validate=validate.OneOf(PRIORITIES))
    department = Text(validate=CODE)
    category = Text(validate=CODE)
    resolution = Text(validate=validate.Length(max=20000))
    reason = Text(validate=validate.Length(max=2000))

    @ma.validates_schema
    def _field_of_the_edit(self, data, **kwargs):
        if data.get("action") in ("assignee", "priority", "department", "category") and data["action"] not in data:
            raise ma.ValidationError(f"required for action {data['action']}", data["action"])


class BulkErrorOut(ma.Schema):
    code = Text()
    message = Text()
    plugin = Text(metadata={"description": "the plugin whose guard refused (code of its choosing)"})
    current_status = Text()
    allowed_actions = fields.List(Text())
    # Last: the name shadows the ``fields`` module inside this class body.
    fields = fields.Dict(keys=Text(), values=fields.List(Text()))


class BulkResultOut(ma.Schema):
    number = Text()
    status = fields.Integer(metadata={"description": "the HTTP status this ticket alone would have had"})
    ok = fields.Boolean()
    error = fields.Nested(BulkErrorOut, allow_none=True)
    followup = Text(allow_none=True, metadata={"description": "a late reopen's follow-up ticket"})


class BulkOut(ma.Schema):
    done = fields.Integer()
    refused = fields.Integer()
    results = fields.List(fields.Nested(BulkResultOut))
