"""tier_sla's charts on the supervisor dashboard (``dashboard_charts`` hook),
drawn from the plugin's own reports (``sla_report``, ``tier_report``)."""
from __future__ import annotations

from datetime import timedelta

from flask_babel import gettext as _

from service import sdk

from .sla_report import compliance
from .tier_report import report

WEEKS = 26  # half a year of weekly points


def charts() -> list[dict]:
    """Two chart specs: targets met per week (percent, last ``WEEKS`` weeks)
    and each tier's share of customers and of revenue (percent)."""
    now = sdk.utcnow()
    weeks = compliance("week", now - timedelta(weeks=WEEKS), None, now)
    tiers = report()["tiers"]
    return [
        {"key": "sla_compliance", "title": _("SLA compliance by week (share of targets met)"), "kind": "line",
         "labels": [w["group"] or "-" for w in weeks],
         "series": [{"name": _("Targets met"),
                     "values": [None if w["compliance"] is None else round(100 * w["compliance"], 1)
                                for w in weeks]}],
         "unit": "%"},
        {"key": "tiers_by_revenue", "title": _("Customers and revenue by tier (share of all)"), "kind": "bar",
         "labels": [t["tier"] for t in tiers],
         "series": [{"name": _("Customers"),
                     "values": [round(100 * t["customer_share"], 1) for t in tiers]},
                    {"name": _("Revenue"),
                     "values": [round(100 * t["revenue_share"], 1) for t in tiers]}],
         "unit": "%"},
    ]
