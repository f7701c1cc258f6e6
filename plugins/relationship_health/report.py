"""The health report (``GET /api/v1/reports/health``, supervisors): where the
customers and their revenue stand by health level and tier, who is at risk
with the most value at stake, and how customers moved between levels month
by month.

* ``levels``: today's level (``customer_health``; "not computed" before a
  customer's first recompute) by effective tier: customers and revenue
  (tier_sla's value, see ``tiervalue``); customers merged into another are
  left out, as everywhere;
* ``at_risk``: the customers at risk now, most value first (then higher
  score, then lower id): value, tier, score, since when (their latest move to
  at risk) and the signals that scored, highest points first;
* ``movements``: the level changes (``customer_health_changes``) recorded in
  the period, per calendar month (UTC) and (from, to) pair; a customer's
  first recompute shows as a move from "not computed".

Each part is one statement, so the report costs the same in Python for a
hundred customers as for a million. ``tables`` gives the same figures as
rows for the CSV download, with translated headers and labels.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone

from service import sdk
from service.sdk import gettext as _

from . import catalog
from .detail import explain
from .texts import level_label
from .tiervalue import money, run, tier_label, tier_order, tier_sql

LEVEL_ORDER = ("at_risk", "watch", "healthy", None)  # most urgent first; None: not computed yet
TABLES = ("levels", "at_risk", "movements")
AT_RISK_LIMIT = 100


@dataclass(frozen=True)
class Period:
    """Days ``start`` to ``end`` (both included, UTC): the movements counted."""

    start: date
    end: date

    @property
    def since(self) -> datetime:
        return datetime.combine(self.start, time(), tzinfo=timezone.utc)

    @property
    def until(self) -> datetime:
        return datetime.combine(self.end + timedelta(days=1), time(), tzinfo=timezone.utc)


def default_period(today: date | None = None) -> Period:
    """The last twelve calendar months: from the first day of the month eleven
    months before this one, to today."""
    today = today or sdk.utcnow().date()
    month = today.year * 12 + today.month - 1 - 11
    return Period(date(month // 12, month % 12 + 1, 1), today)


def level_name(level: str | None) -> str:
    """A level's name in the reader's language; "Not computed" for none."""
    return level_label(level) if level is not None else _("Not computed")


def _reasons(points) -> list[str]:
    """The signals that scored (``{name: points}``, JSON text on SQLite),
    highest points first, by their labels in the reader's language."""
    if isinstance(points, str):
        points = json.loads(points)
    by_name = {s.name: s for s in catalog.in_force()}
    scored = sorted(((p, n) for n, p in (points or {}).items() if p), key=lambda x: (-x[0], x[1]))
    return [explain(by_name[n], None)[0] if n in by_name else n for _p, n in scored]


def levels() -> list[dict]:
    """Customers and revenue by level (most urgent first) and tier (top first)."""
    t = tier_sql()
    rows = run(f"SELECT h.level AS level, {t.tier} AS tier, COUNT(*) AS customers, COALESCE(SUM({t.value}), 0) "
               f"AS revenue FROM customers c LEFT JOIN customer_health h ON h.customer_id = c.id {t.join} "
               "WHERE c.merged_into_id IS NULL GROUP BY 1, 2", t.params).all()
    found = {(r.level, r.tier): (int(r.customers), int(r.revenue)) for r in rows}
    tiers = tier_order(t.tiers, [tier for _level, tier in found])
    out = []
    for level in LEVEL_ORDER:
        for tier in tiers:
            if (level, tier) in found:
                customers, revenue = found[(level, tier)]
                out.append({"level": level, "level_label": level_name(level), "tier": tier,
                            "tier_label": tier_label(tier) if tier is not None else None,
                            "customers": customers, "revenue": money(revenue), "revenue_minor": revenue})
    return out


def at_risk(limit: int = AT_RISK_LIMIT) -> tuple[list[dict], dict]:
    """The customers at risk now, most value first (see the module doc), at
    most ``limit``; and the totals of all of them (``customers``, ``value``)."""
    t = tier_sql()
    rows = run(
        f"SELECT c.id, c.name, c.external_ref, h.score, h.signal_points, {t.tier} AS tier, {t.value} AS value, "
        "(SELECT MAX(x.at) FROM customer_health_changes x WHERE x.customer_id = c.id AND x.to_level = 'at_risk') "
        f"AS since, COUNT(*) OVER () AS total, SUM({t.value}) OVER () AS total_value "
        f"FROM customer_health h JOIN customers c ON c.id = h.customer_id {t.join} "
        f"WHERE h.level = 'at_risk' AND c.merged_into_id IS NULL ORDER BY 7 DESC, h.score DESC, c.id LIMIT :limit",
        {**t.params, "limit": limit}).all()
    out = [{"customer_id": r.id, "name": r.name, "external_ref": r.external_ref, "tier": r.tier,
            "tier_label": tier_label(r.tier) if r.tier is not None else None, "value": money(int(r.value)),
            "value_minor": int(r.value), "score": r.score, "since": _aware(r.since),
            "reasons": _reasons(r.signal_points)} for r in rows]
    totals = {"customers": int(rows[0].total) if rows else 0, "value_minor": int(rows[0].total_value) if rows else 0}
    if len(rows) < limit:  # all of them were read: no window needed (and none when there are none)
        totals = {"customers": len(rows), "value_minor": sum(r["value_minor"] for r in out)}
    return out, {**totals, "value": money(totals["value_minor"])}


def _aware(value):
    if value is None:
        return None
    if isinstance(value, str):  # SQLite gives a subquery's time back as text
        value = datetime.fromisoformat(value)
    return value if value.tzinfo else value.replace(tzinfo=timezone.utc)


def movements(period: Period) -> list[dict]:
    """The level changes recorded in ``period``, per month (oldest first)
    and (from, to) pair (from the most urgent level)."""
    pg = sdk.db.session.get_bind().dialect.name == "postgresql"
    month = "to_char(x.at, 'YYYY-MM')" if pg else "strftime('%Y-%m', x.at)"
    rows = run(f"SELECT {month} AS month, x.from_level, x.to_level, COUNT(*) AS n FROM customer_health_changes x "
               "JOIN customers c ON c.id = x.customer_id WHERE x.at >= :since AND x.at < :until "
               "AND c.merged_into_id IS NULL GROUP BY 1, 2, 3",
               {"since": period.since, "until": period.until}).all()
    rank = {level: i for i, level in enumerate(LEVEL_ORDER)}
    rows = sorted(rows, key=lambda r: (r.month, rank.get(r.from_level, 9), rank.get(r.to_level, 9)))
    return [{"month": r.month, "from_level": r.from_level, "from_label": level_name(r.from_level),
             "to_level": r.to_level, "to_label": level_name(r.to_level), "customers": int(r.n)} for r in rows]


def report(period: Period, limit: int = AT_RISK_LIMIT) -> dict:
    """The whole report (see the module doc) for ``period``."""
    listed, totals = at_risk(limit)
    return {"period": {"from": period.start, "to": period.end}, "currency": tier_sql().currency,
            "computed_at": _aware(run("SELECT MAX(computed_at) AS at FROM customer_health", {}).scalar()),
            "at_risk_totals": totals, "levels": levels(), "at_risk": listed, "movements": movements(period)}


def table(name: str, period: Period, limit: int = AT_RISK_LIMIT) -> tuple[list[str], list[list]]:
    """One part of the report as ``(headers, rows)`` for a CSV download, in
    the reader's language: ``levels``, ``at_risk`` or ``movements``."""
    currency = tier_sql().currency
    value = _("Value (%(currency)s)", currency=currency) if currency else _("Value")
    if name == "levels":
        return ([_("Health level"), _("Tier"), _("Customers"), value],
                [[r["level_label"], r["tier_label"], r["customers"], float(r["revenue"])] for r in levels()])
    if name == "at_risk":
        listed, _totals = at_risk(limit)
        return ([_("Customer"), _("External reference"), _("Tier"), value, _("Score"), _("At risk since"),
                 _("Reasons")],
                [[r["name"], r["external_ref"], r["tier_label"], float(r["value"]), r["score"],
                  r["since"].strftime("%Y-%m-%d %H:%M") if r["since"] else None, "; ".join(r["reasons"])]
                 for r in listed])
    return ([_("Month"), _("From"), _("To"), _("Customers")],
            [[r["month"], r["from_label"], r["to_label"], r["customers"]] for r in movements(period)])
