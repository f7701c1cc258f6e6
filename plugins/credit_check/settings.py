"""credit_check's settings, declared (``register_settings``) with their
defaults and checked when kefu starts, scorecard included: a bad value, or a
scorecard that does not load, stops kefu naming the key and what is wrong.

Set them like any kefu setting (a ``KEFU_SETTINGS`` file, ``KEFU_<KEY>``
environment variables as JSON, a test's overrides); read them with
``settings()``, a ``CreditSettings`` with the scorecard loaded
(``sdk.plugin_settings``: loaded again only when a value changes).
"""
from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import marshmallow as ma
from marshmallow import fields, validate

from service import sdk

from . import scorecard as sc

PLUGIN = "credit_check"
SHIPPED_SCORECARD = Path(__file__).resolve().parent / "scorecard.json"
APPROVERS = ("supervisor", "finance")
UNRATED_CORE = "core"  # CREDIT_UNRATED_AS: let the next decider (in the end the core default) answer


@dataclass(frozen=True)
class CreditSettings:
    """The checked settings: ``grades`` ``[(name, minimum)]`` highest first,
    ``rules`` {grade: {"auto_limit": int|None, "approver": str}}, and the scorecard."""

    grades: tuple[tuple[str, Decimal], ...]
    rules: dict
    currency: str
    unrated_as: str
    source_timeout: float
    source_cache_seconds: int
    scorecard: sc.Scorecard


def _grades(value) -> tuple[tuple[str, Decimal], ...]:
    if not isinstance(value, (list, tuple)) or not value:
        raise ValueError("must be a list of [grade, minimum score] pairs, highest first")
    out, last = [], None
    for pair in value:
        if (not isinstance(pair, (list, tuple)) or len(pair) != 2 or not isinstance(pair[0], str)
                or not 1 <= len(pair[0]) <= 10 or isinstance(pair[1], bool) or not isinstance(pair[1], (int, float))):
            raise ValueError(f"{pair!r} is not a [grade (1-10 characters), minimum score] pair")
        name, minimum = pair[0], Decimal(str(pair[1]))
        if any(name == g for g, _ in out):
            raise ValueError(f"grade {name!r} is named twice")
        if not 0 <= minimum <= sc.TOTAL_POINTS:
            raise ValueError(f"the minimum of {name!r} must be from 0 to {sc.TOTAL_POINTS}, not {pair[1]}")
        if last is not None and minimum >= last:
            raise ValueError(f"minimums must fall from the highest grade to the lowest ({name!r} at {pair[1]})")
        out.append((name, minimum))
        last = minimum
    if out[-1][1] != 0:
        raise ValueError(f"the lowest grade ({out[-1][0]!r}) must start at 0, so every score has a grade")
    return tuple(out)


def _rules(value, grades) -> dict:
    names = [g for g, _ in grades]
    if not isinstance(value, dict) or sorted(value) != sorted(names):
        raise ValueError(f"must have one entry per grade of CREDIT_GRADES ({', '.join(names)})")
    out = {}
    for grade, rule in value.items():
        if not isinstance(rule, dict) or set(rule) - {"auto_limit", "approver"}:
            raise ValueError(f"[{grade!r}] must be {{'auto_limit': minor units or null, 'approver': ...}}")
        limit = rule.get("auto_limit")
        if limit is not None and (isinstance(limit, bool) or not isinstance(limit, int) or limit < 0):
            raise ValueError(f"[{grade!r}].auto_limit must be a whole number of minor units >= 0, or null")
        approver = rule.get("approver", "supervisor")
        if approver not in APPROVERS:
            raise ValueError(f"[{grade!r}].approver must be supervisor or finance, not {approver!r}")
        out[grade] = {"auto_limit": limit, "approver": approver}
    return out


def _check_grades(value) -> None:
    try:
        _grades(value)
    except ValueError as exc:
        raise ma.ValidationError(str(exc)) from None


def _currency(value) -> None:
    if len(value) != 3 or not value.isupper():
        raise ma.ValidationError(f"must be a 3-letter ISO code such as CNY, not {value!r}")


class CreditSettingsSchema(ma.Schema):
    """The settings of credit_check, loaded into a ``CreditSettings``."""

    # The scorecard (groups, indicators, points, scoring rules) as JSON; the
    # default (also when None) is the shipped plugins/credit_check/scorecard.json.
    # Checked at start: the financial indicators must total 30 points and the
    # non-financial 70.
    CREDIT_SCORECARD = fields.String(load_default=str(SHIPPED_SCORECARD), allow_none=True)
    # Grades by minimum score, highest first; the lowest must start at 0.
    CREDIT_GRADES = fields.Raw(load_default=[["AAA", 90], ["AA", 80], ["A", 70], ["B", 60], ["C", 0]],
                               validate=_check_grades)
    # Per grade: remedies up to auto_limit (minor units of CREDIT_CURRENCY) are
    # approved automatically (null: none are); above it the approver decides
    # (supervisor, or finance - for C, finance approves or the customer prepays).
    CREDIT_REMEDY_RULES = fields.Raw(load_default={
        "AAA": {"auto_limit": 1_000_000, "approver": "supervisor"},
        "AA": {"auto_limit": 300_000, "approver": "supervisor"},
        "A": {"auto_limit": 100_000, "approver": "supervisor"},
        "B": {"auto_limit": None, "approver": "supervisor"},
        "C": {"auto_limit": None, "approver": "finance"},
    })
    # Remedy limits are in this currency; a remedy in another one goes to the approver.
    CREDIT_CURRENCY = fields.String(load_default="CNY", validate=_currency)
    # A customer without a rating (or rated "unrated"): "core" lets the core
    # default (DEFAULT_REMEDY_AUTO_APPROVE) decide; a grade name gates them as that grade.
    CREDIT_UNRATED_AS = fields.String(load_default=UNRATED_CORE)
    # The external credit source (the credit_source hook): seconds it may take
    # before the internal score is used ...
    CREDIT_SOURCE_TIMEOUT = fields.Float(load_default=2.0, validate=validate.Range(
        min=0, max=60, min_inclusive=False, error="must be seconds above 0 and at most 60, not {input!r}"))
    # ... and seconds an answer is kept per customer and quarter (0: not kept).
    CREDIT_SOURCE_CACHE_SECONDS = fields.Integer(load_default=3600, strict=True, validate=validate.Range(
        min=0, error="must be a whole number of seconds >= 0, not {input!r}"))

    @ma.post_load
    def _build(self, data, **kwargs) -> CreditSettings:
        """Check what depends on the grades, load the scorecard, and build the settings."""
        errors = {}
        grades = _grades(data["CREDIT_GRADES"])  # checked by the field (the default is good)
        try:
            rules = _rules(data["CREDIT_REMEDY_RULES"], grades)
        except ValueError as exc:
            errors["CREDIT_REMEDY_RULES"] = [str(exc)]
        unrated, names = data["CREDIT_UNRATED_AS"], [g for g, _ in grades]
        if unrated != UNRATED_CORE and unrated not in names:
            errors["CREDIT_UNRATED_AS"] = [f"must be 'core' or a grade ({', '.join(names)}), not {unrated!r}"]
        try:
            card = sc.load(data["CREDIT_SCORECARD"] or SHIPPED_SCORECARD)
        except sc.ScorecardError as exc:
            errors["CREDIT_SCORECARD"] = [str(exc)]
        if errors:
            raise ma.ValidationError(errors)
        return CreditSettings(grades=grades, rules=rules, currency=data["CREDIT_CURRENCY"], unrated_as=unrated,
                              source_timeout=float(data["CREDIT_SOURCE_TIMEOUT"]),
                              source_cache_seconds=data["CREDIT_SOURCE_CACHE_SECONDS"], scorecard=card)


def settings() -> CreditSettings:
    """The current app's checked settings (loaded at start; again only when a value changes)."""
    return sdk.plugin_settings(PLUGIN)
