"""tier_sla's parts of the dashboard: first responses and resolutions on time
by week over the period (with the period before), the same as KPI tiles,
business hours per agent, and customers and revenue by tier, which counts a
customer in the tier tickets are tagged with (an override included)."""
from __future__ import annotations

import re
from datetime import timedelta

import pytest
from flask_babel import format_date
from test_sla import _clock, fast_policy  # noqa: F401  (fixture)
from test_tiers import add_customers, add_spend

from plugins.tier_sla import dashboard, tier_report, tiers
from service.extensions import db
from service.hooks.types import ReportPeriod
from service.models.base import utcnow


def _this_week() -> ReportPeriod:
    today = utcnow().date()
    return ReportPeriod(ReportPeriod.week_of(today), today)


def _chart(key, period=None):
    return next(c for c in dashboard.charts(period or _this_week()) if c["key"] == key)


def test_targets_met_by_week_and_as_tiles(app, client, agent, file_ticket, act, fast_policy):  # noqa: F811
    met = file_ticket()["number"]
    act(agent, met, "confirm", department="logistics")
    missed = file_ticket()["number"]
    _clock(missed).started_at -= timedelta(hours=2)  # opened long ago, never confirmed in time
    db.session.commit()
    act(agent, missed, "confirm", department="logistics")
    period = _this_week()
    with app.test_request_context():
        first, resolution = _chart("sla_first_response", period), _chart("sla_resolution", period)
        # First responses: one met, one missed; resolutions: the late one missed, the other not due yet.
        assert first["kind"] == resolution["kind"] == "line" and first["unit"] == "%"
        assert first["labels"] == [format_date(period.weeks[0], "MM-dd")]
        assert first["series"][0]["values"] == [50.0] and resolution["series"][0]["values"] == [0.0]
        assert first["series"][1]["values"] == [None]  # nothing the week before
        assert first["links"][0] == (f"/console/queue/all?created_from={period.start.isoformat()}"
                                     f"&created_to={period.end.isoformat()}")
        tiles = {t["key"]: t for t in dashboard.kpis(period)}
        assert (tiles["sla_first_response_met"]["value"], tiles["sla_first_response_met"]["previous"]) == (50.0, None)
        assert tiles["sla_resolution_met"]["value"] == 0.0 and tiles["sla_resolution_met"]["better"] == "up"


def test_a_26_week_range_draws_26_weekly_points(app):
    today = utcnow().date()
    period = ReportPeriod(ReportPeriod.week_of(today) - timedelta(weeks=25), today)
    with app.test_request_context():
        chart = _chart("sla_first_response", period)
    assert len(chart["labels"]) == 26 and all(len(s["values"]) == 26 for s in chart["series"])


@pytest.mark.parametrize("overrides", [{"TIER_METHOD": "abc"}])
def test_customers_and_revenue_by_tier(app):
    ids = add_customers(20)
    spend = [500_000, 200_000, 150_000, 50_000] + [10_000] * 12 + [0, 0, 0, -5_000]
    add_spend([(cid, amount) for cid, amount in zip(ids, spend) if amount])
    tiers.recompute()
    with app.test_request_context():
        chart = _chart("tiers_by_revenue")
    assert chart["labels"] == ["Class A", "Class B", "Class C"]
    # The report's shares (see test_pareto_report_on_a_small_data_set), as percentages.
    assert [s["values"] for s in chart["series"]] == [[5.0, 15.0, 80.0], [49.0, 39.2, 11.8]]


def test_the_tier_chart_counts_an_override_as_the_queue_tags_it(app, make_staff, client, staff_login):
    # The demo's case: eight customers, the top spender computed one tier
    # below the top and pinned to the top by a supervisor. Tickets are tagged
    # with the effective tier (the customer_tier decider), so the chart
    # counts it there too; before, it read the computed tier and showed vip
    # at 0 % while the queue tagged a customer vip.
    supervisor, _ = make_staff("supervisor")
    ids = add_customers(8)
    add_spend([(cid, 100_000 - 1_000 * i) for i, cid in enumerate(ids)])
    tiers.recompute()
    assert tiers.effective_tier(ids[0]) != "vip"
    tiers.set_override(ids[0], "vip", "key account", None, supervisor)
    assert tiers.effective_tier(ids[0]) == "vip"  # what the decider gives a new ticket
    with app.test_request_context():
        chart = _chart("tiers_by_revenue")
    assert chart["labels"][0] == "VIP"
    assert chart["series"][0]["values"][0] == 12.5  # one of eight
    # The API's Pareto report stays by computed tier (the 80/20 check of spend).
    assert tier_report.report()["tiers"][0]["customers"] == 0
    # Each tier's bars lead to its customers: the customer list filtered by that tier.
    assert chart["links"][0] == "/console/customers?tier_sla.tier=vip"
    staff_login("supervisor")
    listed = client.get(chart["links"][0])
    assert listed.status_code == 200
    rows = re.findall(r'href="/console/customers/(\d+)"', listed.text)
    assert rows == [str(ids[0])]
