"""Each customer's tier and value, as tier_sla keeps them, for the health
report, the dashboard and the pages: read by name in SQL (the
``customer_tiers`` table), as the recompute reads ``tier_transactions``,
never by importing tier_sla (builtin plugins do not import each other).

* tier: the effective one (a supervisor's override while it lasts, else the
  computed tier), the tier tickets are tagged with; a customer without a
  tier row counts in tier_sla's lowest tier, as tier_sla's own report does;
* value: tier_sla's value from its last recompute (spend or margin over its
  period, minor units), counted only when positive.

With tier_sla switched off (its settings absent, its tables perhaps never
made) there is no tier and no value: the SQL fragments then join nothing.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from flask import g, has_request_context
from sqlalchemy import Date, bindparam, text

from service import sdk

from .catalog import other_settings


@dataclass(frozen=True)
class TierSql:
    """SQL fragments for a statement over ``customers c``: ``join`` (may be
    empty), ``tier`` and ``value`` (expressions), and the parameters they
    bind (``rh_now``, ``rh_lowest``). ``tiers``: tier_sla's tiers, top
    first (empty when it is off); ``currency`` its currency (None when off)."""

    join: str
    tier: str
    value: str
    params: dict
    tiers: tuple
    currency: str | None


def tier_sql() -> TierSql:
    """The fragments for the current settings (see the module doc)."""
    tier = other_settings("tier_sla")
    if tier is None:
        return TierSql("", "NULL", "0", {}, (), None)
    effective = ("CASE WHEN ct.override_tier IS NOT NULL AND (ct.override_until IS NULL OR ct.override_until > "
                 ":rh_now) THEN ct.override_tier ELSE COALESCE(ct.computed_tier, :rh_lowest) END")
    return TierSql("LEFT JOIN customer_tiers ct ON ct.customer_id = c.id", effective,
                   "(CASE WHEN ct.value_minor > 0 THEN ct.value_minor ELSE 0 END)",
                   {"rh_now": sdk.utcnow(), "rh_lowest": tier.lowest}, tuple(tier.tiers), tier.currency)


def run(sql: str, params: dict):
    """Execute ``sql`` with typed parameters: aware times bound as the models
    store them (naive UTC, through ``UTCDateTime``), dates as dates.

    One statement through the session (``sdk.read``, which runs a Core
    select past the ORM, is not in this kefu's SDK yet)."""
    binds, values = [], {}
    for key, value in params.items():
        if f":{key}" not in sql:
            continue
        if isinstance(value, datetime):
            binds.append(bindparam(key, type_=sdk.UTCDateTime()))
        elif isinstance(value, date):
            binds.append(bindparam(key, type_=Date()))
        values[key] = value
    return sdk.db.session.execute(text(sql).bindparams(*binds), values)


def tier_label(code: str | None) -> str:
    """A tier's name in the reader's language: tier_sla's (or another
    plugin's) answer to ``code_label``, asked once per tier and language in
    a request; the code as written when nobody names it ("" for none)."""
    if code is None:
        return ""
    cache = g.setdefault("kefu_relationship_health_tiers", {}) if has_request_context() else {}
    key = (code, sdk.current_language())
    if key not in cache:
        answer, _plugin, _failures = sdk.ask("code_label", group="tier", code=code)
        cache[key] = str(answer) if answer else code
    return cache[key]


def tier_order(tiers: tuple, found) -> list:
    """The tiers to list: tier_sla's, top first, then any others found
    (another method's, before its next recompute), then none."""
    seen = [t for t in dict.fromkeys(found) if t is not None and t not in tiers]
    return list(tiers) + sorted(seen) + ([None] if None in found else [])


def money(minor: int | None) -> str | None:
    """Minor units as a decimal string with two places (``123456`` -> ``"1234.56"``), as tier_sla's API writes them."""
    if minor is None:
        return None
    return f"{'-' if minor < 0 else ''}{abs(minor) // 100}.{abs(minor) % 100:02d}"


def currency_symbol(currency: str | None) -> str:
    """The currency's symbol in the reader's language (CNY: ¥ in Chinese, CN¥ in English); "" for none."""
    if not currency:
        return ""
    from babel.numbers import get_currency_symbol

    return get_currency_symbol(currency, locale="zh_CN" if sdk.current_language() == "zh" else "en")
