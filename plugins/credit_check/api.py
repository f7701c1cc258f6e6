"""The credit API (staff): a customer's rating with its breakdown, ratings,
figures in, rate now, and who viewed a breakdown.

==================================================  ===========================  ===============================
route                                               role                         does
==================================================  ===========================  ===============================
GET  /api/v1/customers/{id}/credit[?quarter=]       supervisor, finance (admin)  grade, score, breakdown; the view is recorded
GET  /api/v1/customers/{id}/credit/ratings          supervisor, finance (admin)  every rating, newest first (no breakdown)
POST /api/v1/customers/{id}/credit/rate             supervisor, finance (admin)  rate now (``quarter`` optional)
GET  /api/v1/customers/{id}/credit/figures/{q}      supervisor, finance (admin)  the figures of quarter q
PUT  /api/v1/customers/{id}/credit/figures/{q}      supervisor, finance (admin)  merge figures (null removes one)
GET  /api/v1/customers/{id}/credit/views            admin                        who viewed the breakdown, when
==================================================  ===========================  ===============================

Credit data is never on customer-facing routes; agents get 403 here. Views
are thin: load, call the use case (``explain``, ``rating``, ``figures``), dump;
the use cases answer 404 for an unknown customer and write in units of work.
"""
from __future__ import annotations

from datetime import timezone

import marshmallow as ma
from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import fields, validate

from service import sdk

from . import explain, figures, quarters, rating

blp = Blueprint("credit_check", __name__, url_prefix="/api/v1/customers",
                description="Customer credit ratings (credit_check): supervisors, admins and finance only.")
blp.before_request(sdk.authenticate)

CUSTOMER = "/<int(max=2147483647):customer_id>/credit"
QUARTER = validate.Regexp(quarters.QUARTER.pattern, error="must be a quarter such as 2026Q4")


def _when(**kw):
    return fields.AwareDateTime(default_timezone=timezone.utc, **kw)


class QuarterArgs(ma.Schema):
    quarter = fields.String(validate=QUARTER, load_default=None)


class IndicatorOut(ma.Schema):
    key = fields.String()
    name = fields.String()
    name_zh = fields.String()
    group = fields.String()
    financial = fields.Boolean()
    value = fields.Float(allow_none=True)
    points = fields.String(metadata={"description": "points earned (decimal string)"})
    max_points = fields.String()


class GroupOut(ma.Schema):
    key = fields.String()
    name = fields.String()
    name_zh = fields.String()
    points = fields.String()
    max_points = fields.String()


class RatingOut(ma.Schema):
    customer_id = fields.Integer()
    status = fields.String(metadata={"description": "rated or unrated"})
    grade = fields.String(allow_none=True)
    # Numbers, as documented (0 to 100, two decimals); stored as exact decimals.
    score = fields.Float(allow_none=True, metadata={"description": "0 to 100, two decimals"})
    internal_score = fields.Float(allow_none=True, metadata={
        "description": "the scorecard's own score (0 to 100) when an external source set the grade"})
    source = fields.String(allow_none=True, metadata={"description": "scorecard, or the external source's name"})
    quarter = fields.String(allow_none=True)
    figures_quarter = fields.String(allow_none=True)
    rated_at = _when(allow_none=True)
    rated_by = fields.String(allow_none=True)
    reason = fields.String(allow_none=True)


class CreditOut(RatingOut):
    breakdown = fields.List(fields.Nested(IndicatorOut))
    groups = fields.List(fields.Nested(GroupOut))


class FiguresIn(ma.Schema):
    figures = fields.Dict(keys=fields.String(validate=validate.Length(min=1, max=60)),
                          values=fields.Float(allow_none=True, allow_nan=False), required=True,
                          metadata={"description": "indicator key -> number; null removes the figure"})


class FiguresOut(ma.Schema):
    customer_id = fields.Integer()
    quarter = fields.String()
    figures = fields.Dict(keys=fields.String(), values=fields.Float())
    missing = fields.List(fields.String(), metadata={"description": "indicators still without a figure"})
    updated_at = _when(allow_none=True)


class RateIn(ma.Schema):
    quarter = fields.String(validate=QUARTER, load_default=None)


class ViewOut(ma.Schema):
    id = fields.Integer()
    staff_id = fields.Integer()
    rating_id = fields.Integer(allow_none=True)
    at = _when()


@blp.route(CUSTOMER, methods=["GET"])
@sdk.require_role("supervisor", "finance")
@blp.arguments(QuarterArgs(), location="query")
@blp.response(200, CreditOut)
def credit(args, customer_id):
    """The rating in force (or the latest of ``quarter``) with its breakdown;
    each view is recorded. Never rated: ``status`` unrated, ``reason`` "not rated yet"."""
    return explain.view_breakdown(customer_id, sdk.current_staff(), args.get("quarter"))


@blp.route(CUSTOMER + "/ratings", methods=["GET"])
@sdk.require_role("supervisor", "finance")
@sdk.read_only
@blp.response(200, RatingOut(many=True))
def ratings(customer_id):
    """Every rating of the customer, newest first (grades and scores, no breakdown)."""
    return rating.ratings_of(customer_id)


@blp.route(CUSTOMER + "/rate", methods=["POST"])
@sdk.require_role("supervisor", "finance")
@blp.arguments(RateIn())
@blp.response(201, RatingOut)
def rate(data, customer_id):
    """Rate the customer now for ``quarter`` (default: the current one) from
    the previous quarter's figures; the external source may take up to
    ``CREDIT_SOURCE_TIMEOUT`` seconds."""
    return rating.rate_customer(customer_id, data.get("quarter"), rated_by=f"staff:{sdk.current_staff().id}")


@blp.route(CUSTOMER + "/figures/<quarter>")
class Figures(MethodView):
    @sdk.require_role("supervisor", "finance")
    @sdk.read_only
    @blp.response(200, FiguresOut)
    def get(self, customer_id, quarter):
        """The customer's figures for ``quarter`` and the indicators still missing."""
        return figures.figures_view(customer_id, quarter)

    @sdk.require_role("supervisor", "finance")
    @blp.arguments(FiguresIn())
    @blp.response(200, FiguresOut)
    def put(self, data, customer_id, quarter):
        """Merge figures into the customer's ``quarter`` (422 naming ``figures.<key>``)."""
        return figures.put_figures(customer_id, quarter, data["figures"])


@blp.route(CUSTOMER + "/views", methods=["GET"])
@sdk.require_role("admin")
@sdk.read_only
@blp.response(200, ViewOut(many=True))
def views(customer_id):
    """Who viewed the customer's credit breakdown, newest first (the last 200)."""
    return explain.views_of(customer_id)
