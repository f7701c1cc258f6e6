"""tier_sla's dashboard charts: SLA compliance by week and tiers by revenue,
from the plugin's own reports."""
from __future__ import annotations

from datetime import timedelta

import pytest
from test_sla import _clock, fast_policy  # noqa: F401  (fixture)
from test_tiers import add_customers, add_spend

from plugins.tier_sla import tiers
from plugins.tier_sla.dashboard import charts
from service.extensions import db
from service.models.base import utcnow


def _chart(key):
    return next(c for c in charts() if c["key"] == key)


def test_sla_compliance_by_week(app, client, agent, file_ticket, act, fast_policy):  # noqa: F811
    met = file_ticket()["number"]
    act(agent, met, "confirm", department="logistics")
    missed = file_ticket()["number"]
    _clock(missed).started_at -= timedelta(hours=2)  # opened long ago, never confirmed in time
    db.session.commit()
    act(agent, missed, "confirm", department="logistics")
    chart = _chart("sla_compliance")
    # 1 target met of 3 counted (the late one also missed its resolution): 33.3 %, this week.
    assert chart["kind"] == "line" and chart["unit"] == "%"
    assert chart["labels"] == [utcnow().strftime("%G-W%V")]
    assert chart["series"][0]["values"] == [33.3]


@pytest.mark.parametrize("overrides", [{"TIER_METHOD": "abc"}])
def test_customers_and_revenue_by_tier(app):
    ids = add_customers(20)
    spend = [500_000, 200_000, 150_000, 50_000] + [10_000] * 12 + [0, 0, 0, -5_000]
    add_spend([(cid, amount) for cid, amount in zip(ids, spend) if amount])
    tiers.recompute()
    chart = _chart("tiers_by_revenue")
    assert chart["labels"] == ["A", "B", "C"]
    # The report's shares (see test_pareto_report_on_a_small_data_set), as percentages.
    assert [s["values"] for s in chart["series"]] == [[5.0, 15.0, 80.0], [49.0, 39.2, 11.8]]
