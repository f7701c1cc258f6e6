"""Signals as data: the builtin signals (``signals.json``, or the file named
by ``HEALTH_SIGNALS``) and those integrators add (the ``health_signals``
hook), checked into ``Signal`` rows.

A signal is a named rule: a **measure** (what is counted per customer, over
a window of days), a **comparison** with a **threshold**, and the
**points** it adds to the risk score when the comparison holds. Measures
(all grow with risk, see docs/relationship_health.md):

* ``recency``: days since the last purchase (a sale of a positive amount)
  divided by the customer's usual interval between purchases (first to last
  over the purchases between, at least a day; one purchase:
  ``HEALTH_SINGLE_SALE_INTERVAL_DAYS``); no purchase at all: no value.
* ``revenue_drop``: how far sales in the window fell against the window
  before, in percent (0 when they did not fall); nothing (or less than
  nothing: credit notes) sold in the window after a purchase before it: 100.
* ``returns_share``: returns, exchanges and cancellations in the window as a
  percentage of the purchases in it (at least one is assumed, so two
  returns without a purchase are 200).
* ``complaints``: complaint tickets opened in the window (default
  ``COMPLAINT_TREND_DAYS``, the core's complaint trend).
* ``unhappy``: 1 when the satisfaction class (the survey plugin's rules,
  over its window) is complaining or lost, or the last answered survey
  said not solved; else 0.
* ``contact_changes``: contact changes noticed in the window.
* ``sla_overdue``: open tickets past their resolution due time (no window).

Comparisons are ``>=`` and ``>`` only: with values that grow with risk, more
complaints, returns or silence can then never lower the score.
"""
from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass
from pathlib import Path

MEASURES = ("recency", "revenue_drop", "returns_share", "complaints", "unhappy", "contact_changes", "sla_overdue")
NO_WINDOW = ("recency", "sla_overdue")  # measures that take no window
COMPARISONS = (">=", ">")
NAME = re.compile(r"[a-z][a-z0-9_]{0,39}")
FIELDS = ("name", "measure", "window_days", "comparison", "threshold", "points", "label")
MAX_POINTS = 100
MAX_WINDOW = 3650


class SignalsError(ValueError):
    """The signals are unusable; the message names the file, the signal and the field."""


@dataclass(frozen=True)
class Signal:
    """One checked signal. Builtin ones have a ``measure``; an integrator's
    has ``query`` (see ``hookspecs.health_signals``) and its own texts."""

    name: str
    comparison: str
    threshold: float
    points: int
    label: str  # a key of texts.SIGNAL_TEXTS (builtin), or the text itself
    measure: str | None = None
    window_days: int | None = None
    query: str | None = None
    explanation: str | None = None
    plugin: str | None = None  # who added it (hook signals)

    def scores(self, value) -> bool:
        """Whether ``value`` (None: not measured) earns the points."""
        if value is None:
            return False
        return value >= self.threshold if self.comparison == ">=" else value > self.threshold


def _number(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def check_signal(raw, where: str, builtin: bool = True) -> Signal:
    """One signal from its dict; ``SignalsError`` naming ``where`` and the field."""
    if not isinstance(raw, dict):
        raise SignalsError(f"{where}: must be an object with {', '.join(FIELDS)}")
    allowed = set(FIELDS) if builtin else {"name", "query", "window_days", "comparison", "threshold", "points",
                                           "label", "explanation"}
    name = raw.get("name")
    if not isinstance(name, str) or not NAME.fullmatch(name):
        raise SignalsError(f"{where}.name: must be a snake_case name of 1-40 characters, not {name!r}")
    where = f"{where} ({name})"
    extra = sorted(set(raw) - allowed)
    if extra:
        raise SignalsError(f"{where}.{extra[0]}: unknown field (fields: {', '.join(sorted(allowed))})")
    if builtin:
        measure = raw.get("measure")
        if measure not in MEASURES:
            raise SignalsError(f"{where}.measure: must be one of {', '.join(MEASURES)}, not {measure!r}")
    else:
        measure = None
        query = raw.get("query")
        if not isinstance(query, str) or not query.strip():
            raise SignalsError(f"{where}.query: must be SQL selecting customer_id and value")
    window = raw.get("window_days")
    if window is not None:
        if not isinstance(window, int) or isinstance(window, bool) or not 1 <= window <= MAX_WINDOW:
            raise SignalsError(f"{where}.window_days: must be whole days from 1 to {MAX_WINDOW}, or null")
        if measure in NO_WINDOW:
            raise SignalsError(f"{where}.window_days: the {measure} measure takes no window; give null")
    comparison = raw.get("comparison")
    if comparison not in COMPARISONS:
        raise SignalsError(f"{where}.comparison: must be >= or > (values grow with risk), not {comparison!r}")
    threshold = raw.get("threshold")
    if not _number(threshold):
        raise SignalsError(f"{where}.threshold: must be a number, not {threshold!r}")
    points = raw.get("points")
    if not isinstance(points, int) or isinstance(points, bool) or not 0 <= points <= MAX_POINTS:
        raise SignalsError(f"{where}.points: must be a whole number from 0 to {MAX_POINTS}, not {points!r}")
    label = raw.get("label")
    if builtin:
        from .texts import SIGNAL_TEXTS

        if label not in SIGNAL_TEXTS:
            raise SignalsError(f"{where}.label: must be one of {', '.join(SIGNAL_TEXTS)}, not {label!r}")
        explanation = None
    else:
        explanation = raw.get("explanation")
        for field, text in (("label", label), ("explanation", explanation)):
            if not isinstance(text, str) or not text.strip() or len(text) > 300:
                raise SignalsError(f"{where}.{field}: must be a text of 1-300 characters")
    return Signal(name=name, comparison=comparison, threshold=float(threshold), points=points, label=label,
                  measure=measure, window_days=window, query=raw.get("query"), explanation=explanation)


def load(path) -> tuple[Signal, ...]:
    """The signals of the JSON file at ``path`` (``{"signals": [...]}``), checked;
    ``SignalsError`` naming the file, the signal and the field otherwise."""
    path = Path(path)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise SignalsError(f"{path}: cannot be read ({exc.strerror or exc})") from None
    except ValueError as exc:
        raise SignalsError(f"{path}: is not JSON ({exc})") from None
    if not isinstance(data, dict) or not isinstance(data.get("signals"), list) or not data["signals"]:
        raise SignalsError(f"{path}: must be an object with a non-empty list 'signals'")
    found, names = [], set()
    for i, raw in enumerate(data["signals"]):
        try:
            signal = check_signal(raw, f"signals[{i}]")
        except SignalsError as exc:
            raise SignalsError(f"{path}: {exc}") from None
        if signal.name in names:
            raise SignalsError(f"{path}: signals[{i}].name: {signal.name!r} is named twice")
        names.add(signal.name)
        found.append(signal)
    return tuple(found)
