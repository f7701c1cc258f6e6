"""satisfaction_survey's chart on the supervisor dashboard (``dashboard_charts``
hook): the CSAT trend, from the plugin's own report (``reports.figures``)."""
from __future__ import annotations

from datetime import timedelta

from flask_babel import gettext as _

from service.sdk import utcnow

from .reports import figures

WEEKS = 26  # half a year of weekly points


def charts(now=None) -> list[dict]:
    """One line chart: CSAT (share of ratings 4-5) and response rate per ISO
    week of delivery, in percent, over the ``WEEKS`` weeks before ``now``
    (default: the current time); None where a week had no answer."""
    now = now or utcnow()
    weeks = [w for w in figures("week", since=now - timedelta(weeks=WEEKS), until=now) if w["group"]]

    def percent(value):
        return None if value is None else round(100 * value, 1)

    return [{"key": "csat_trend", "title": _("Customer satisfaction by week (CSAT, response rate)"),
             "kind": "line", "labels": [w["group"] for w in weeks],
             "series": [{"name": _("CSAT"), "values": [percent(w["csat"]) for w in weeks]},
                        {"name": _("Response rate"), "values": [percent(w["response_rate"]) for w in weeks]}],
             "unit": "%"}]
