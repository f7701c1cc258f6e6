"""relationship_health's settings, declared (``register_settings``) with
their defaults and checked when kefu starts, signals file included: a bad
value, or a signals file that does not load, stops kefu naming the key, the
signal and the field.

Read them with ``settings()``, a ``HealthSettings`` with the signals loaded.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import marshmallow as ma
from marshmallow import fields, validate

from service import sdk

from . import signals as sg
from .care_settings import CareSettings, CareSettingsFields  # issue 18 items 3-4
from .care_settings import build as build_care

PLUGIN = "relationship_health"
SHIPPED_SIGNALS = Path(__file__).resolve().parent / "signals.json"


@dataclass(frozen=True)
class HealthSettings:
    """The checked settings: the builtin signals, the window, the levels'
    thresholds, the recompute's period and chunk size."""

    signals: tuple
    window_days: int
    watch_from: int
    at_risk_from: int
    recompute_interval: int
    chunk: int
    single_sale_interval_days: int
    care: CareSettings | None = None  # key-account owners and proactive care (care_settings)

    def level(self, score: int) -> str:
        """The level of ``score``: at_risk, watch or healthy."""
        return "at_risk" if score >= self.at_risk_from else "watch" if score >= self.watch_from else "healthy"


def _levels(value) -> tuple[int, int]:
    if (not isinstance(value, dict) or set(value) != {"watch", "at_risk"}
            or any(not isinstance(v, int) or isinstance(v, bool) for v in value.values())):
        raise ValueError("must be {\"watch\": score, \"at_risk\": score} with whole-number scores")
    if not 0 < value["watch"] < value["at_risk"]:
        raise ValueError(f"need 0 < watch < at_risk, not watch {value['watch']} and at_risk {value['at_risk']}")
    return value["watch"], value["at_risk"]


def _check_levels(value) -> None:
    try:
        _levels(value)
    except ValueError as exc:
        raise ma.ValidationError(str(exc)) from None


def _days(low, high):
    return validate.Range(min=low, max=high, error=f"must be whole days from {low} to {high}, not {{input!r}}")


class HealthSettingsSchema(CareSettingsFields, ma.Schema):
    """The settings of relationship_health, loaded into a ``HealthSettings``."""

    # The builtin signals as JSON; default (also when None): the shipped
    # plugins/relationship_health/signals.json.
    HEALTH_SIGNALS = fields.String(load_default=str(SHIPPED_SIGNALS), allow_none=True)
    # The default window of the signals that take one (revenue trend,
    # returns, contact changes; complaints use COMPLAINT_TREND_DAYS).
    HEALTH_WINDOW_DAYS = fields.Integer(load_default=90, strict=True, validate=_days(7, 3650))
    # A score from "watch" is watched, from "at_risk" at risk; below: healthy.
    HEALTH_LEVELS = fields.Raw(load_default={"watch": 25, "at_risk": 50}, validate=_check_levels)
    # Seconds between two periodic recomputes (default: daily).
    HEALTH_RECOMPUTE_INTERVAL = fields.Integer(load_default=86_400, strict=True, validate=validate.Range(
        min=300, max=7 * 86_400, error="must be seconds from 300 to 604800, not {input!r}"))
    # Customer ids per range of the recompute: each statement works on one
    # range, which bounds the database's work per statement.
    HEALTH_CHUNK = fields.Integer(load_default=50_000, strict=True, validate=validate.Range(
        min=100, max=1_000_000, error="must be from 100 to 1000000 customers, not {input!r}"))
    # The usual interval between sales of a customer with a single sale.
    HEALTH_SINGLE_SALE_INTERVAL_DAYS = fields.Integer(load_default=365, strict=True, validate=_days(1, 3650))

    @ma.post_load
    def _build(self, data, **kwargs) -> HealthSettings:
        """Load the signals file and build the settings."""
        try:
            loaded = sg.load(data["HEALTH_SIGNALS"] or SHIPPED_SIGNALS)
        except sg.SignalsError as exc:
            raise ma.ValidationError({"HEALTH_SIGNALS": [str(exc)]}) from None
        watch, at_risk = _levels(data["HEALTH_LEVELS"])
        return HealthSettings(signals=loaded, window_days=data["HEALTH_WINDOW_DAYS"], watch_from=watch,
                              at_risk_from=at_risk, recompute_interval=data["HEALTH_RECOMPUTE_INTERVAL"],
                              chunk=data["HEALTH_CHUNK"],
                              single_sale_interval_days=data["HEALTH_SINGLE_SALE_INTERVAL_DAYS"],
                              care=build_care(data))


def settings() -> HealthSettings:
    """The current app's checked settings (loaded at start; again only when a value changes)."""
    return sdk.plugin_settings(PLUGIN)
