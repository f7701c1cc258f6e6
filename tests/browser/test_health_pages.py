"""A supervisor finds the customers at risk in a real browser (issue 18 item
6): on the customer list the "Health level" filter set to "At risk" leaves
the customers at risk (tests/healthdata.py); opening one shows the profile's
health section with each scoring signal explained. In English and Chinese,
at 1366 and 390 px: screenshots in /tmp/health-shots/, and on the phone the
section fits the screen's width (no sideways scrolling to read it)."""
from __future__ import annotations

from pathlib import Path

import pytest
from healthdata import seed
from playwright.sync_api import expect
from webpages import PASSWORD

from service.extensions import db
from service.usecases.staff import create_staff

pytestmark = [pytest.mark.browser, pytest.mark.sqlite_only]

SHOTS = Path("/tmp/health-shots")
TEXTS = {
    "en": {"locale": "en-US", "level": "Health level", "at_risk": "At risk", "filter": "Filter",
           "title": "Relationship health",
           "explained": "Days since the last purchase divided by the customer's usual interval between purchases: 3"},
    "zh_CN": {"locale": "zh-CN", "level": "健康等级", "at_risk": "有流失风险", "filter": "筛选",
              "title": "客户关系健康度", "explained": "距上次购买的天数除以该客户通常的购买间隔：3"},
}


def _sign_in(page, base: str, language: str) -> None:
    staff, _token = create_staff(f"health-{language}@kefu.test", "Lead", "supervisor", "after_sales",
                                 password=PASSWORD)
    staff.language = language
    db.session.commit()
    page.goto(base + "/console/login")
    page.locator("#email").fill(staff.email)
    page.locator("#password").fill(PASSWORD)
    page.locator("#sign-in").click()
    expect(page.locator("#queue-mine")).to_be_visible()


def _shoot(page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


@pytest.mark.parametrize("language", ["en", "zh_CN"])
def test_a_supervisor_filters_to_at_risk_and_reads_why(live_server, new_context, language):
    t = TEXTS[language]
    seed()
    context = new_context(viewport={"width": 1366, "height": 900}, locale=t["locale"],
                          extra_http_headers={"Accept-Language": t["locale"]})
    page = context.new_page()
    _sign_in(page, live_server.url, language)
    page.goto(live_server.url + "/console/customers")
    page.get_by_label(t["level"], exact=True).select_option(label=t["at_risk"])
    page.locator("#customer-search button[type=submit]").click()
    rows = page.locator("#customer-list tbody tr")
    expect(rows).to_have_count(3)
    expect(rows.locator("td:first-child a")).to_have_text(["Emei", "Beijing", "Anhui"])  # newest first
    expect(page.locator('#customer-list td[data-column="relationship_health.level"]')).to_have_text([t["at_risk"]] * 3)
    _shoot(page, f"list-1366-{language}")

    page.get_by_role("link", name="Anhui", exact=True).click()
    section = page.locator('section[data-panel="relationship_health"]')
    expect(section.get_by_role("heading", name=t["title"])).to_be_visible()
    expect(section.locator(".badge")).to_have_text(t["at_risk"])
    expect(section).to_contain_text(t["explained"])
    section.scroll_into_view_if_needed()
    _shoot(page, f"profile-1366-{language}")

    page.set_viewport_size({"width": 390, "height": 844})
    expect(section).to_contain_text(t["explained"])
    box = section.bounding_box()
    assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= 390, box
    section.screenshot(path=str(SHOTS / f"profile-section-390-{language}.png"))
    _shoot(page, f"profile-390-{language}")
    page.go_back()
    expect(rows).to_have_count(3)
    _shoot(page, f"list-390-{language}")

    # The dashboard's revenue at risk by tier, on the phone and on the desk.
    page.goto(live_server.url + "/console/dashboard?from=2026-03-30&to=2026-05-17")
    chart = page.locator("#chart-health_value_at_risk")
    expect(chart.locator("svg.chart")).to_be_visible()
    chart.scroll_into_view_if_needed()
    chart.screenshot(path=str(SHOTS / f"dashboard-chart-390-{language}.png"))
    page.set_viewport_size({"width": 1366, "height": 900})
    chart.screenshot(path=str(SHOTS / f"dashboard-chart-1366-{language}.png"))
