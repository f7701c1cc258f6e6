"""The credit scorecard: groups, indicators with their points and scoring
rules, kept as data (the plugin's ``scorecard.json`` or the file named by
``CREDIT_SCORECARD``), checked when kefu starts, and the arithmetic that
turns a customer's figures into points.

Pure Python (no Flask, no database), so the arithmetic is tested on its own.

Rules (each indicator has one):

* ``banded``: ``{"type": "banded", "bands": [{"min": 10, "points": 5}, ...]}``
  - the first band whose ``min <= value`` (or ``value <= max``) gives its
  points; no band matches: 0. The best band must give the indicator's points.
* ``linear``: ``{"type": "linear", "zero_at": 60, "full_at": 100}`` - 0 points
  at ``zero_at``, all at ``full_at``, a straight line between, clamped
  outside; ``full_at < zero_at`` when lower is better (days overdue, debt).

Points are ``Decimal`` rounded half-up to two places, per indicator; the
score is their sum, so the breakdown always adds up to the score.
"""
from __future__ import annotations

import json
import math
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from pathlib import Path

FINANCIAL_POINTS = 30
NON_FINANCIAL_POINTS = 70
TOTAL_POINTS = FINANCIAL_POINTS + NON_FINANCIAL_POINTS
CENT = Decimal("0.01")


class ScorecardError(ValueError):
    """The scorecard file is unusable; the message names the file and what is wrong."""


@dataclass(frozen=True)
class Indicator:
    """One indicator: its key (the figure's name), group, points and rule."""

    key: str
    name: str
    name_zh: str
    group: str
    financial: bool
    points: Decimal
    rule: dict
    unit: str = ""

    def score(self, value) -> Decimal:
        """Points for ``value`` (a number) under this indicator's rule."""
        v = Decimal(str(value))
        if self.rule["type"] == "banded":
            for band in self.rule["bands"]:
                if ("min" in band and v >= band["min"]) or ("max" in band and v <= band["max"]):
                    return band["points"].quantize(CENT)
            return Decimal("0.00")
        zero, full = self.rule["zero_at"], self.rule["full_at"]
        share = min(max((v - zero) / (full - zero), Decimal(0)), Decimal(1))
        return (self.points * share).quantize(CENT, rounding=ROUND_HALF_UP)


@dataclass(frozen=True)
class Scorecard:
    """The checked scorecard: ``groups`` (key -> names) and ``indicators`` in file order."""

    groups: dict
    indicators: tuple[Indicator, ...]
    source: str = ""

    @property
    def keys(self) -> tuple[str, ...]:
        return tuple(i.key for i in self.indicators)

    def missing(self, figures: dict) -> list[str]:
        """Indicator keys with no figure (None counts as missing)."""
        return [i.key for i in self.indicators if figures.get(i.key) is None]

    def score(self, figures: dict) -> tuple[Decimal, list[dict]]:
        """``(score, breakdown)`` for complete ``figures`` ({key: number}).

        The breakdown has one entry per indicator: ``key``, ``group``,
        ``financial``, ``value``, ``points`` (earned) and ``max_points``.
        Raises ``KeyError`` naming a missing figure: check ``missing`` first.
        """
        breakdown, total = [], Decimal(0)
        for ind in self.indicators:
            points = ind.score(figures[ind.key])
            total += points
            breakdown.append({"key": ind.key, "group": ind.group, "financial": ind.financial,
                              "value": figures[ind.key], "points": str(points),
                              "max_points": str(ind.points.quantize(CENT))})
        return total, breakdown


def _number(value, where: str) -> Decimal:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise ScorecardError(f"{where} must be a number, not {value!r}")
    return Decimal(str(value))


def _text(item: dict, key: str, where: str) -> str:
    value = item.get(key)
    if not isinstance(value, str) or not value.strip():
        raise ScorecardError(f"{where}: {key!r} must be a non-empty string")
    return value


def _rule(rule, points: Decimal, where: str) -> dict:
    if not isinstance(rule, dict) or rule.get("type") not in ("banded", "linear"):
        raise ScorecardError(f"{where}: rule must be an object with type 'banded' or 'linear'")
    if rule["type"] == "linear":
        zero = _number(rule.get("zero_at"), f"{where}: rule.zero_at")
        full = _number(rule.get("full_at"), f"{where}: rule.full_at")
        if zero == full:
            raise ScorecardError(f"{where}: rule.zero_at and rule.full_at must differ")
        return {"type": "linear", "zero_at": zero, "full_at": full}
    bands = rule.get("bands")
    if not isinstance(bands, list) or not bands:
        raise ScorecardError(f"{where}: a banded rule needs a non-empty list of bands")
    out = []
    for n, band in enumerate(bands):
        at = f"{where}: band {n + 1}"
        if not isinstance(band, dict) or ("min" in band) == ("max" in band):
            raise ScorecardError(f"{at} must have exactly one of min and max, and points")
        bound = "min" if "min" in band else "max"
        earned = _number(band.get("points"), f"{at}: points")
        if not 0 <= earned <= points:
            raise ScorecardError(f"{at}: points {earned} must be from 0 to the indicator's {points}")
        out.append({bound: _number(band[bound], f"{at}: {bound}"), "points": earned})
    if max(b["points"] for b in out) != points:
        raise ScorecardError(f"{where}: the best band gives {max(b['points'] for b in out)} points, "
                             f"not the indicator's {points}")
    return {"type": "banded", "bands": out}


def parse(data, source: str = "scorecard") -> Scorecard:
    """Check a scorecard's parsed JSON and return it; ``ScorecardError`` names what is wrong.

    Checked: groups and indicators are lists of objects with unique keys;
    each indicator names a known group, has positive points, a valid rule
    and a boolean ``financial``; every group has an indicator; the
    financial indicators total 30 points, the non-financial 70, all 100.
    """
    if not isinstance(data, dict):
        raise ScorecardError(f"{source}: must be a JSON object with groups and indicators")
    groups = data.get("groups")
    if not isinstance(groups, list) or not groups:
        raise ScorecardError(f"{source}: 'groups' must be a non-empty list")
    group_map = {}
    for n, group in enumerate(groups):
        where = f"{source}: group {n + 1}"
        if not isinstance(group, dict):
            raise ScorecardError(f"{where} must be an object")
        key = _text(group, "key", where)
        if key in group_map:
            raise ScorecardError(f"{source}: group {key!r} is declared twice")
        group_map[key] = {"name": _text(group, "name", where), "name_zh": group.get("name_zh") or group["name"]}
    items = data.get("indicators")
    if not isinstance(items, list) or not items:
        raise ScorecardError(f"{source}: 'indicators' must be a non-empty list")
    indicators, seen = [], set()
    for n, item in enumerate(items):
        where = f"{source}: indicator {n + 1}"
        if not isinstance(item, dict):
            raise ScorecardError(f"{where} must be an object")
        key = _text(item, "key", where)
        where = f"{source}: indicator {key!r}"
        if key in seen:
            raise ScorecardError(f"{where} is declared twice")
        seen.add(key)
        if item.get("group") not in group_map:
            raise ScorecardError(f"{where}: group {item.get('group')!r} is not one of {', '.join(group_map)}")
        if not isinstance(item.get("financial"), bool):
            raise ScorecardError(f"{where}: 'financial' must be true or false")
        points = _number(item.get("points"), f"{where}: points")
        if points <= 0:
            raise ScorecardError(f"{where}: points must be positive, not {points}")
        indicators.append(Indicator(key=key, name=_text(item, "name", where), name_zh=item.get("name_zh") or item["name"],
                                    group=item["group"], financial=item["financial"], points=points,
                                    rule=_rule(item.get("rule"), points, where), unit=str(item.get("unit") or "")))
    empty = [g for g in group_map if not any(i.group == g for i in indicators)]
    if empty:
        raise ScorecardError(f"{source}: group(s) {', '.join(empty)} have no indicator")
    financial = sum((i.points for i in indicators if i.financial), Decimal(0))
    other = sum((i.points for i in indicators if not i.financial), Decimal(0))
    if financial != FINANCIAL_POINTS or other != NON_FINANCIAL_POINTS:
        raise ScorecardError(f"{source}: the financial indicators total {financial} points and the non-financial "
                             f"{other} (total {financial + other}); they must total {FINANCIAL_POINTS} and "
                             f"{NON_FINANCIAL_POINTS} (total {TOTAL_POINTS})")
    return Scorecard(groups=group_map, indicators=tuple(indicators), source=source)


def load(path) -> Scorecard:
    """Read and check the scorecard file at ``path``; ``ScorecardError`` names the file and the fault."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ScorecardError(f"{path}: cannot read the scorecard ({exc.strerror or exc})") from None
    try:
        data = json.loads(text)
    except ValueError as exc:
        raise ScorecardError(f"{path}: not valid JSON ({exc})") from None
    return parse(data, str(path))


def grade_for(score: Decimal, grades) -> str:
    """The first grade of ``grades`` (``[(name, minimum score)]``, highest first) that ``score`` reaches."""
    for name, minimum in grades:
        if score >= Decimal(str(minimum)):
            return name
    return grades[-1][0]


def as_decimal(value) -> Decimal:
    """``value`` as a finite Decimal; ``ValueError`` otherwise (used for figures)."""
    if isinstance(value, bool):
        raise ValueError("must be a number")
    try:
        d = Decimal(str(value).strip())
    except InvalidOperation:
        raise ValueError("must be a number") from None
    if not d.is_finite():
        raise ValueError("must be a finite number")
    return d
