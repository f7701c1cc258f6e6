"""credit_check's settings, checked when kefu starts (a bad value stops kefu,
naming the key), and the scorecard they point at.

Every key is in ``config/default.py`` with a comment and can be set like any
kefu setting (``KEFU_SETTINGS`` file, ``KEFU_<KEY>`` as JSON, a test's overrides).
"""
from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

from flask import current_app

from . import scorecard as sc

SHIPPED_SCORECARD = Path(__file__).resolve().parent.parent.parent / "config" / "credit_scorecard.json"
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
    key = "CREDIT_GRADES"
    if not isinstance(value, (list, tuple)) or not value:
        raise ValueError(f"{key} must be a list of [grade, minimum score] pairs, highest first")
    out, last = [], None
    for pair in value:
        if (not isinstance(pair, (list, tuple)) or len(pair) != 2 or not isinstance(pair[0], str)
                or not 1 <= len(pair[0]) <= 10 or isinstance(pair[1], bool) or not isinstance(pair[1], (int, float))):
            raise ValueError(f"{key}: {pair!r} is not a [grade (1-10 characters), minimum score] pair")
        name, minimum = pair[0], Decimal(str(pair[1]))
        if any(name == g for g, _ in out):
            raise ValueError(f"{key}: grade {name!r} is named twice")
        if not 0 <= minimum <= sc.TOTAL_POINTS:
            raise ValueError(f"{key}: the minimum of {name!r} must be from 0 to {sc.TOTAL_POINTS}, not {pair[1]}")
        if last is not None and minimum >= last:
            raise ValueError(f"{key}: minimums must fall from the highest grade to the lowest ({name!r} at {pair[1]})")
        out.append((name, minimum))
        last = minimum
    if out[-1][1] != 0:
        raise ValueError(f"{key}: the lowest grade ({out[-1][0]!r}) must start at 0, so every score has a grade")
    return tuple(out)


def _rules(value, grades) -> dict:
    key = "CREDIT_REMEDY_RULES"
    names = [g for g, _ in grades]
    if not isinstance(value, dict) or sorted(value) != sorted(names):
        raise ValueError(f"{key} must have one entry per grade of CREDIT_GRADES ({', '.join(names)})")
    out = {}
    for grade, rule in value.items():
        if not isinstance(rule, dict) or set(rule) - {"auto_limit", "approver"}:
            raise ValueError(f"{key}[{grade!r}] must be {{'auto_limit': minor units or null, 'approver': ...}}")
        limit = rule.get("auto_limit")
        if limit is not None and (isinstance(limit, bool) or not isinstance(limit, int) or limit < 0):
            raise ValueError(f"{key}[{grade!r}].auto_limit must be a whole number of minor units >= 0, or null")
        approver = rule.get("approver", "supervisor")
        if approver not in APPROVERS:
            raise ValueError(f"{key}[{grade!r}].approver must be supervisor or finance, not {approver!r}")
        out[grade] = {"auto_limit": limit, "approver": approver}
    return out


def credit_settings(config=None) -> CreditSettings:
    """The checked settings from ``config`` (default: the current app's);
    ``ValueError`` names the bad key (``ScorecardError`` the scorecard's fault)."""
    config = current_app.config if config is None else config
    grades = _grades(config["CREDIT_GRADES"])
    rules = _rules(config["CREDIT_REMEDY_RULES"], grades)
    currency = config["CREDIT_CURRENCY"]
    if not isinstance(currency, str) or len(currency) != 3 or not currency.isupper():
        raise ValueError(f"CREDIT_CURRENCY must be a 3-letter ISO code such as CNY, not {currency!r}")
    unrated = config["CREDIT_UNRATED_AS"]
    if unrated != UNRATED_CORE and unrated not in rules:
        raise ValueError(f"CREDIT_UNRATED_AS must be 'core' or a grade ({', '.join(rules)}), not {unrated!r}")
    timeout = config["CREDIT_SOURCE_TIMEOUT"]
    if isinstance(timeout, bool) or not isinstance(timeout, (int, float)) or not 0 < timeout <= 60:
        raise ValueError(f"CREDIT_SOURCE_TIMEOUT must be seconds above 0 and at most 60, not {timeout!r}")
    cache = config["CREDIT_SOURCE_CACHE_SECONDS"]
    if isinstance(cache, bool) or not isinstance(cache, int) or cache < 0:
        raise ValueError(f"CREDIT_SOURCE_CACHE_SECONDS must be a whole number of seconds >= 0, not {cache!r}")
    path = config.get("CREDIT_SCORECARD") or SHIPPED_SCORECARD
    return CreditSettings(grades=grades, rules=rules, currency=currency, unrated_as=unrated,
                          source_timeout=float(timeout), source_cache_seconds=cache, scorecard=sc.load(path))


def settings() -> CreditSettings:
    """The current app's checked settings, read once per app (at start)."""
    cached = current_app.extensions.get("credit_check_settings")
    if cached is None:
        cached = current_app.extensions["credit_check_settings"] = credit_settings()
    return cached
