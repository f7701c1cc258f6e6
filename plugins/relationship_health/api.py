"""The health API (staff).

==========================================  ===========  ====================================
route                                        role         does
==========================================  ===========  ====================================
GET    /api/v1/customers/{id}/health         agent        score, level, signals, history
POST   /api/v1/health/recompute              admin        recompute every customer's health now
==========================================  ===========  ====================================

Views are thin: call the use case (``detail``, ``recompute``), dump.
"""
from __future__ import annotations

from datetime import timezone

import marshmallow as ma
from flask_smorest import Blueprint
from marshmallow import fields, validate

from service import sdk

from . import detail, recompute
from .models import LEVELS

blp = Blueprint("relationship_health", __name__, url_prefix="/api/v1",
                description="Relationship health (relationship_health): churn-risk signals, score and level.")
blp.before_request(sdk.authenticate)


def _when(**kw):
    return fields.AwareDateTime(default_timezone=timezone.utc, **kw)


class HealthSignalOut(ma.Schema):
    name = fields.String()
    label = fields.String(metadata={"description": "in the request's language"})
    value = fields.Float(allow_none=True, metadata={"description": "none: not measured (e.g. no sale yet)"})
    comparison = fields.String(validate=validate.OneOf([">=", ">"]))
    threshold = fields.Float()
    points = fields.Integer(metadata={"description": "points this signal adds to the score now"})
    max_points = fields.Integer(metadata={"description": "points it adds when it holds"})
    window_days = fields.Integer(allow_none=True)
    explanation = fields.String(metadata={"description": "in the request's language"})
    source = fields.String(metadata={"description": "relationship_health, or the plugin that added it"})


class HealthCausedOut(ma.Schema):
    name = fields.String()
    label = fields.String()
    value = fields.Float(allow_none=True)
    points = fields.Integer()


class HealthChangeOut(ma.Schema):
    id = fields.Integer()
    at = _when()
    from_level = fields.String(allow_none=True, metadata={"description": "none: first computed"})
    to_level = fields.String(validate=validate.OneOf(LEVELS))
    to_level_label = fields.String()
    score = fields.Integer()
    signals = fields.List(fields.Nested(HealthCausedOut), metadata={"description": "the signals that scored then"})


class HealthOut(ma.Schema):
    customer_id = fields.Integer()
    score = fields.Integer(allow_none=True, metadata={"description": "higher is more risk; none before the first "
                                                                     "recompute"})
    level = fields.String(allow_none=True, validate=validate.OneOf(LEVELS))
    level_label = fields.String(allow_none=True)
    computed_at = _when(allow_none=True, metadata={"description": "when these values last changed"})
    checked_at = _when(allow_none=True, metadata={"description": "the last recompute (it found them unchanged "
                                                                 "if later than computed_at)"})
    signals = fields.List(fields.Nested(HealthSignalOut))
    history = fields.List(fields.Nested(HealthChangeOut), metadata={"description": "changes of level, newest first, "
                                                                             "at most 50"})


class HealthRecomputeOut(ma.Schema):
    customers = fields.Integer()
    changed = fields.Integer(metadata={"description": "customers whose level changed"})
    chunks = fields.Integer()
    failed_signals = fields.List(fields.String(), metadata={"description": "hook signals whose query failed"})
    seconds = fields.Float()


@blp.route("/customers/<int(max=2147483647):customer_id>/health", methods=["GET"])
@sdk.require_role("agent")
@blp.response(200, HealthOut)
def get_health(customer_id):
    """The customer's relationship health: score, level, each signal with its
    value, threshold, points and explanation, and the history of levels."""
    return detail.detail(customer_id)


@blp.route("/health/recompute", methods=["POST"])
@sdk.require_role("admin")
@blp.response(200, HealthRecomputeOut)
def post_recompute():
    """Recompute every customer's health now (as the periodic job does)."""
    return recompute.recompute()
