"""relationship_health on the supervisor dashboard: revenue at risk by tier,
week by week (``dashboard_charts``), and the customers and value at risk as
tiles (``dashboard_kpis``).

A customer was at risk at a moment when their latest level change before
it (``customer_health_changes``) went to at risk: every recompute records a
change when a level changes, and a customer's first one when they start
anything but healthy, so the history alone tells each customer's level at
any moment since the plugin ran. For each week of the period the chart sums,
per tier, the value of the customers at risk at the week's end (or the
period's, for the last week): their value and tier today (tier_sla keeps no
history of values), their level then.

One statement per dashboard view (the changes that went to at risk with the
next change's time beside them, summed at every week's end at once), read
once per request: the chart, the tiles and the CSV share it.
"""
from __future__ import annotations

from datetime import datetime, time, timedelta, timezone

from flask import g, has_request_context, url_for
from flask_babel import format_date

from service import sdk
from service.sdk import gettext as _

from .pages import LIST_KEY
from .tiervalue import currency_symbol, run, tier_label, tier_order, tier_sql


def _midnight(day) -> datetime:
    return datetime.combine(day, time(), tzinfo=timezone.utc)


def moments(period) -> list[datetime]:
    """The week ends of ``period`` (the Monday after each week, or the
    period's end for the last), then the end of the period before (the
    tiles' comparison)."""
    ends = [min(_midnight(w + timedelta(days=7)), period.until) for w in period.weeks]
    return ends + [period.previous.until]


def at_risk_by_tier(period) -> dict:
    """``{tier: [(customers, value in minor units) per moment]}`` at each of
    ``moments(period)``; read once per request."""
    key = ("relationship_health.at_risk", period)
    cache = g.setdefault("kefu_relationship_health_dashboard", {}) if has_request_context() else {}
    if key in cache:
        return cache[key]
    t = tier_sql()
    ends = moments(period)
    at = " AND ".join(["s.at < :e{i}", "(s.next_at IS NULL OR s.next_at >= :e{i})"])
    cols = ", ".join(f"COUNT(CASE WHEN {at.format(i=i)} THEN 1 END) AS n{i}, "
                     f"COALESCE(SUM(CASE WHEN {at.format(i=i)} THEN {t.value} ELSE 0 END), 0) AS v{i}"
                     for i in range(len(ends)))
    params = {**t.params, "last": max(ends), **{f"e{i}": e for i, e in enumerate(ends)}}
    rows = run("WITH s AS (SELECT x.customer_id, x.at, x.to_level, "
               "LEAD(x.at) OVER (PARTITION BY x.customer_id ORDER BY x.id) AS next_at "
               "FROM customer_health_changes x WHERE x.at < :last) "
               f"SELECT {t.tier} AS tier, {cols} FROM s JOIN customers c ON c.id = s.customer_id {t.join} "
               "WHERE s.to_level = 'at_risk' AND c.merged_into_id IS NULL GROUP BY 1", params).all()
    found = {r.tier: [(int(r._mapping[f"n{i}"]), int(r._mapping[f"v{i}"])) for i in range(len(ends))] for r in rows}
    cache[key] = {tier: found.get(tier, [(0, 0)] * len(ends)) for tier in tier_order(t.tiers, list(found))}
    return cache[key]


def _list_link() -> str:
    return url_for("console_customers.index", **{LIST_KEY: "at_risk", "sort": "tier_sla.value"})


def charts(period) -> list[dict]:
    """Revenue at risk by tier at the end of each week of ``period`` (a
    line per tier); the customers at risk when tier_sla is off. The last
    week links to today's at-risk customers when the period reaches today."""
    by_tier = at_risk_by_tier(period)
    weeks = len(period.weeks)
    currency = tier_sql().currency
    links = [None] * weeks
    if period.end >= sdk.utcnow().date() and weeks:
        links[-1] = _list_link()
    common = {"kind": "line", "labels": [format_date(w, "MM-dd") for w in period.weeks], "links": links,
              "label_title": _("Week (starting Monday), at its end")}
    if currency is None:
        totals = [sum(by_tier[t][i][0] for t in by_tier) for i in range(weeks)]
        return [{**common, "key": "health_at_risk", "title": _("Customers at risk, by week"),
                 "series": [{"name": _("Customers at risk"), "values": totals}], "unit": None,
                 "value_title": _("Customers at risk")}]
    series = [{"name": tier_label(tier) if tier is not None else _("No tier"),
               "values": [round(v / 100, 2) for _n, v in by_tier[tier][:weeks]]} for tier in by_tier]
    if not series:
        series = [{"name": _("Value at risk"), "values": [0] * weeks}]
    return [{**common, "key": "health_value_at_risk", "title": _("Revenue at risk by tier, by week"),
             "series": series, "unit": currency_symbol(currency),
             "value_title": _("Value of the customers at risk")}]


def kpis(period) -> list[dict]:
    """Tiles: the customers at risk and their value at the end of the
    period, against the end of the period before (fewer is better)."""
    by_tier = at_risk_by_tier(period)
    last, before = len(period.weeks) - 1, len(period.weeks)

    def total(i: int, part: int):
        return sum(by_tier[t][i][part] for t in by_tier)

    tiles = [{"key": "health_customers_at_risk", "label": _("Customers at risk"), "unit": None, "better": "down",
              "value": total(last, 0), "previous": total(before, 0)}]
    currency = tier_sql().currency
    if currency is not None:
        tiles.append({"key": "health_value_at_risk", "label": _("Value at risk"), "unit": currency_symbol(currency),
                      "better": "down", "value": round(total(last, 1) / 100, 2),
                      "previous": round(total(before, 1) / 100, 2)})
    return tiles
