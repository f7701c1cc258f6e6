"""The health report API (supervisors and admins).

==========================================  ===========  ==============================================
route                                        role         does
==========================================  ===========  ==============================================
GET    /api/v1/reports/health                supervisor   by level and tier, the at-risk list, movements
GET    /api/v1/reports/health/csv            supervisor   one of its tables as CSV (``table``)
==========================================  ===========  ==============================================

Views are thin: load the query (marshmallow: bad dates are a 422 naming
``from`` or ``to``), read (``report``), dump. A flask-smorest blueprint of
its own, so it joins kefu's OpenAPI document beside the plugin's other API.
"""
from __future__ import annotations

from datetime import date, timedelta, timezone

import marshmallow as ma
from flask_smorest import Blueprint
from marshmallow import fields, validate

from service import sdk

from . import report
from .models import LEVELS

blp = Blueprint("relationship_health_reports", __name__, url_prefix="/api/v1",
                description="Relationship health reports (relationship_health): customers and revenue by "
                            "level and tier, the at-risk list, movements between levels.")
blp.before_request(sdk.authenticate)

EARLIEST = date(2000, 1, 1)
MAX_DAYS = 3660  # ten years of months: more is no report anyone reads


class HealthReportArgs(ma.Schema):
    """The period of the movements (UTC days, ``to`` included) and the
    length of the at-risk list. Without ``from`` and ``to``: the last twelve
    calendar months."""

    start = fields.Date(data_key="from", load_default=None,
                        metadata={"description": "first day (YYYY-MM-DD); default: the first day of the month "
                                                 "eleven months ago"})
    end = fields.Date(data_key="to", load_default=None, metadata={"description": "last day, included; default: today"})
    limit = fields.Integer(load_default=report.AT_RISK_LIMIT, validate=validate.Range(min=1, max=1000),
                           metadata={"description": "customers in the at-risk list, most value first"})

    @ma.validates_schema
    def _period(self, data, **kwargs):
        default = report.default_period()
        start, end = data.get("start") or default.start, data.get("end") or default.end
        if start < EARLIEST:
            raise ma.ValidationError("must be 2000-01-01 or later", "from")
        if end > default.end + timedelta(days=366):
            raise ma.ValidationError("must be at most a year from today", "to")
        if start > end:
            raise ma.ValidationError("must not be before from", "to")
        if (end - start).days + 1 > MAX_DAYS:
            raise ma.ValidationError(f"the period must be at most {MAX_DAYS} days", "to")

    @ma.post_load
    def _build(self, data, **kwargs):
        default = report.default_period()
        return {"period": report.Period(data.get("start") or default.start, data.get("end") or default.end),
                "limit": data["limit"]}


class HealthReportCsvArgs(HealthReportArgs):
    table = fields.String(load_default="levels", validate=validate.OneOf(report.TABLES),
                          metadata={"description": "which table: levels, at_risk or movements"})

    @ma.post_load
    def _build(self, data, **kwargs):
        return {**super()._build(data, **kwargs), "table": data["table"]}


def _when(**kw):
    return fields.AwareDateTime(default_timezone=timezone.utc, **kw)


class PeriodOut(ma.Schema):
    from_ = fields.Date(data_key="from", attribute="from")
    to = fields.Date()


class LevelTierRow(ma.Schema):
    level = fields.String(allow_none=True, validate=validate.OneOf(LEVELS),
                          metadata={"description": "none: not computed yet"})
    level_label = fields.String(metadata={"description": "in the request's language"})
    tier = fields.String(allow_none=True, metadata={"description": "the effective tier; none without tier_sla"})
    tier_label = fields.String(allow_none=True)
    customers = fields.Integer()
    revenue = fields.String(metadata={"description": "tier_sla's value, positive only, two decimals"})
    revenue_minor = fields.Integer()


class AtRiskRow(ma.Schema):
    customer_id = fields.Integer()
    name = fields.String(allow_none=True)
    external_ref = fields.String(allow_none=True)
    tier = fields.String(allow_none=True)
    tier_label = fields.String(allow_none=True)
    value = fields.String(metadata={"description": "the customer's tier value (value at risk), two decimals"})
    value_minor = fields.Integer()
    score = fields.Integer()
    since = _when(allow_none=True, metadata={"description": "the latest move to at risk"})
    reasons = fields.List(fields.String(), metadata={"description": "the signals that scored, most points first"})


class AtRiskTotals(ma.Schema):
    customers = fields.Integer()
    value = fields.String()
    value_minor = fields.Integer()


class MovementRow(ma.Schema):
    month = fields.String(metadata={"description": "YYYY-MM (UTC)"})
    from_level = fields.String(allow_none=True, metadata={"description": "none: first computed"})
    from_label = fields.String()
    to_level = fields.String(validate=validate.OneOf(LEVELS))
    to_label = fields.String()
    customers = fields.Integer(metadata={"description": "level changes of this kind that month"})


class HealthReportOut(ma.Schema):
    period = fields.Nested(PeriodOut)
    currency = fields.String(allow_none=True, metadata={"description": "tier_sla's; none when it is off"})
    computed_at = _when(allow_none=True, metadata={"description": "the last recompute"})
    at_risk_totals = fields.Nested(AtRiskTotals)
    levels = fields.List(fields.Nested(LevelTierRow), metadata={"description": "today's, most urgent level first"})
    at_risk = fields.List(fields.Nested(AtRiskRow), metadata={"description": "most value at risk first"})
    movements = fields.List(fields.Nested(MovementRow), metadata={"description": "in the period, by month"})


@blp.route("/reports/health", methods=["GET"])
@sdk.require_role("supervisor")
@blp.arguments(HealthReportArgs(), location="query")
@blp.response(200, HealthReportOut)
def get_report(args):
    """Customers and revenue by health level and tier (today), the customers
    at risk most value first, and the moves between levels per month of the
    period; labels in the request's language."""
    return report.report(args["period"], args["limit"])


@blp.route("/reports/health/csv", methods=["GET"])
@sdk.require_role("supervisor")
@blp.arguments(HealthReportCsvArgs(), location="query")
@blp.response(200, description="CSV (UTF-8 with BOM): the table's headers and labels in the request's language",
              example="Health level,Tier,Customers,Value (CNY)\r\n", content_type="text/csv")
def get_report_csv(args):
    """One table of the health report as CSV: ``levels``, ``at_risk`` or ``movements``."""
    period = args["period"]
    headers, rows = report.table(args["table"], period, args["limit"])
    return sdk.csv_download(f"health-{args['table']}_{period.start.isoformat()}_{period.end.isoformat()}.csv",
                        headers, rows)
