"""The tier API (staff): transactions in, a customer's tier and its override,
recompute now, and the Pareto report.

==========================================  ===========  ====================================
route                                        role         does
==========================================  ===========  ====================================
POST   /api/v1/transactions                  supervisor   add transactions (repeats skipped)
GET    /api/v1/customers/{id}/tier           agent        tier, source, value, rank, history
PUT    /api/v1/customers/{id}/tier           supervisor   override: tier, reason, until
DELETE /api/v1/customers/{id}/tier           supervisor   remove the override
POST   /api/v1/tiers/recompute               admin        recompute every tier now
GET    /api/v1/reports/tiers                 supervisor   per tier: customers and revenue share
==========================================  ===========  ====================================

The report is for supervisors: it shows how revenue is spread over the
customer base, which agents do not need to serve a customer. Agents see a
customer's own tier and value (they serve them by it). Views are thin:
load, call the use case (``tiers``, ``transactions``, ``tier_report``), dump.
"""
from __future__ import annotations

from datetime import timezone

import marshmallow as ma
from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import fields, validate

from service import sdk

from . import tier_report, tiers, transactions
from .models import TRANSACTION_TYPES

blp = Blueprint("tier_sla", __name__, url_prefix="/api/v1",
                description="Customer tiers (tier_sla): transactions, tiers, overrides, the Pareto report.")
blp.before_request(sdk.authenticate)

ID = validate.Range(min=1, max=2**31 - 1)  # 32-bit ids: larger is a 422, not an overflow
CUSTOMER = "/customers/<int(max=2147483647):customer_id>/tier"


def _when(**kw):
    return fields.AwareDateTime(default_timezone=timezone.utc, **kw)


class TransactionIn(ma.Schema):
    customer_id = fields.Integer(strict=True, validate=ID, load_default=None,
                                 metadata={"description": "give customer_id or customer_ref"})
    customer_ref = fields.String(validate=sdk.filled(80), load_default=None,
                                 metadata={"description": "the customer's external_ref"})
    date = fields.Date(required=True, metadata={"description": "the day of the sale (YYYY-MM-DD)"})
    amount = fields.String(required=True, validate=validate.Regexp(transactions.AMOUNT, error="must be a decimal "
                           "string with at most two decimals, e.g. 1234.50 (negative for a credit note)"),
                           metadata={"pattern": transactions.AMOUNT.pattern})
    margin = fields.String(validate=validate.Regexp(transactions.AMOUNT, error="must be a decimal string with at "
                           "most two decimals"), load_default=None, allow_none=True,
                           metadata={"pattern": transactions.AMOUNT.pattern})
    currency = fields.String(required=True, validate=validate.Regexp(r"^[A-Z]{3}$", error="must be a 3-letter "
                             "ISO currency code such as CNY"), metadata={"description": "must be TIER_CURRENCY"})
    reference = fields.String(required=True, validate=sdk.filled(80),
                              metadata={"description": "unique per customer: a repeat is skipped"})
    type = fields.String(load_default="sale", validate=validate.OneOf(TRANSACTION_TYPES),
                         metadata={"description": "sale (default), return, exchange or cancellation; tiers count "
                                                  "sales only"})

    @ma.validates_schema
    def _one_customer(self, data, **kwargs):
        if (data.get("customer_id") is None) == (data.get("customer_ref") is None):
            raise ma.ValidationError("give exactly one of customer_id and customer_ref", "customer_id")
        if "reference" in data and not data["reference"].strip():
            raise ma.ValidationError("must not be blank", "reference")

    @ma.post_load
    def _to_model(self, data, **kwargs):
        data["occurred_on"] = data.pop("date")
        data["amount_minor"] = transactions.parse_amount(data.pop("amount"))
        margin = data.pop("margin")
        data["margin_minor"] = transactions.parse_amount(margin, "margin") if margin is not None else None
        data["reference"] = data["reference"].strip()  # as the CSV import stores it
        return data


class TransactionsIn(ma.Schema):
    transactions = fields.List(fields.Nested(TransactionIn), required=True,
                               validate=validate.Length(min=1, max=1000, error="give 1 to 1000 transactions"))


class TransactionsOut(ma.Schema):
    created = fields.Integer()
    skipped = fields.Integer(metadata={"description": "repeats of a stored or earlier (customer, reference)"})


class OverrideIn(ma.Schema):
    tier = fields.String(required=True, validate=validate.Length(min=1, max=20),
                         metadata={"description": "a tier of the current method (e.g. vip, A)"})
    reason = fields.String(required=True, validate=sdk.filled(500))
    until = _when(load_default=None, allow_none=True,
                  metadata={"description": "when the override ends (future, within ten years); none: until removed"})


class OverrideOut(ma.Schema):
    tier = fields.String()
    reason = fields.String()
    until = _when(allow_none=True)
    by = fields.Integer(allow_none=True, metadata={"description": "staff id"})
    active = fields.Boolean(metadata={"description": "false once `until` has passed"})


class TierChangeOut(ma.Schema):
    id = fields.Integer()
    at = _when()
    from_tier = fields.String(allow_none=True)
    to_tier = fields.String()
    reason = fields.String()


class TierOut(ma.Schema):
    customer_id = fields.Integer()
    tier = fields.String(allow_none=True, metadata={"description": "the effective tier; none before any recompute"})
    source = fields.String(allow_none=True, validate=validate.OneOf(["computed", "override"]))
    computed_tier = fields.String(allow_none=True)
    value = fields.String(allow_none=True, metadata={"description": "spend or margin over the period, decimal"})
    value_minor = fields.Integer(allow_none=True)
    rank = fields.Integer(allow_none=True, metadata={"description": "1 = highest value"})
    computed_at = _when(allow_none=True)
    method = fields.String()
    measure = fields.String()
    currency = fields.String()
    override = fields.Nested(OverrideOut, allow_none=True)
    history = fields.List(fields.Nested(TierChangeOut), metadata={"description": "newest first, at most 50"})


class RecomputeOut(ma.Schema):
    customers = fields.Integer()
    changed = fields.Integer(metadata={"description": "customers whose effective tier changed"})
    overrides_expired = fields.Integer()
    method = fields.String()
    measure = fields.String()
    period_from = fields.Date()
    period_to = fields.Date()
    seconds = fields.Float()


class TierRow(ma.Schema):
    tier = fields.String()
    customers = fields.Integer()
    customer_share = fields.Float()
    revenue = fields.String()
    revenue_minor = fields.Integer()
    revenue_share = fields.Float()
    cumulative_customer_share = fields.Float()
    cumulative_revenue_share = fields.Float()


class Period(ma.Schema):
    from_ = fields.Date(data_key="from", attribute="from")
    to = fields.Date()
    days = fields.Integer()


class Totals(ma.Schema):
    customers = fields.Integer()
    revenue = fields.String()
    revenue_minor = fields.Integer()


class ReportOut(ma.Schema):
    method = fields.String()
    measure = fields.String()
    currency = fields.String()
    computed_at = _when(allow_none=True, metadata={"description": "the last recompute; none before the first"})
    period = fields.Nested(Period)
    active_overrides = fields.Integer()
    totals = fields.Nested(Totals)
    tiers = fields.List(fields.Nested(TierRow), metadata={"description": "top tier first"})


@blp.route("/transactions", methods=["POST"])
@sdk.require_role("supervisor")
@blp.arguments(TransactionsIn())
@blp.response(200, TransactionsOut)
def post_transactions(data):
    """Add transactions, all or nothing (422 naming ``transactions.<i>.<field>``);
    a repeated (customer, reference) is skipped, so a retry adds nothing."""
    return transactions.add_transactions(data["transactions"])


@blp.route(CUSTOMER)
class CustomerTierView(MethodView):
    @sdk.require_role("agent")
    @blp.response(200, TierOut)
    def get(self, customer_id):
        """The customer's tier: effective tier and its source, computed tier,
        value, rank, the override if any, and the history of changes."""
        return tiers.detail(customer_id)

    @sdk.require_role("supervisor")
    @blp.arguments(OverrideIn())
    @blp.response(200, TierOut)
    def put(self, data, customer_id):
        """Override the customer's tier with a reason and an optional expiry."""
        return tiers.set_override(customer_id, data["tier"], data["reason"], data["until"], sdk.current_staff())

    @sdk.require_role("supervisor")
    @blp.response(200, TierOut)
    def delete(self, customer_id):
        """Remove the override (if any): the computed tier applies again."""
        return tiers.clear_override(customer_id, sdk.current_staff())


@blp.route("/tiers/recompute", methods=["POST"])
@sdk.require_role("admin")
@blp.response(200, RecomputeOut)
def post_recompute():
    """Recompute every customer's tier now (as the nightly job does)."""
    return tiers.recompute()


@blp.route("/reports/tiers", methods=["GET"])
@sdk.require_role("supervisor")
@blp.response(200, ReportOut)
def get_report():
    """The Pareto report: per tier (top first) the number of customers and
    their share of revenue, with running totals, for the current method."""
    return tier_report.report()
