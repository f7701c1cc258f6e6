"""A supervisor drills down from the dashboard in a real browser (issue 20,
item 2): a bar of the complaints-by-category Pareto chart opens the queue
showing exactly that category's complaints of the period, with the filters
as chips. Screenshots of the dashboard at 1366 and 390 px in English and
Chinese (test-output/screenshots/dashboard-*.png); the chart text measures
at least 12 px on screen and no label is cut."""
from __future__ import annotations

import re

import pytest
import reporthistory
from console_login import sign_in
from playwright.sync_api import expect
from webpages import PASSWORD

from service.extensions import db
from service.usecases.staff import create_staff

pytestmark = [pytest.mark.browser, pytest.mark.sqlite_only]

RANGE = "?from=2026-11-02&to=2026-11-29"
TEXTS = {"en": {"lang": "en-US", "category": "Slow delivery", "chips": ["Kind: Complaint", "Category: Slow delivery"],
                "heading": "All tickets"},
         "zh_CN": {"lang": "zh-CN", "category": "送货太慢", "chips": ["类型：投诉", "类别：送货太慢"],
                   "heading": "全部工单"}}


@pytest.fixture
def history(kefu_clock, client, file_ticket, act, make_staff):
    # The clock runs on from just after the history, so sessions behave as usual.
    return reporthistory.build(kefu_clock, client, file_ticket, act, make_staff, "2026-12-02T10:00:00", tick=True)


def _sign_in(page, base, language):
    staff, _token = create_staff(f"boss-{language}@kefu.test", "Boss", "supervisor", "after_sales", password=PASSWORD)
    staff.language = language
    db.session.commit()
    sign_in(page, base, staff.email)
    expect(page.locator("#queue-mine")).to_be_visible()


def _smallest_chart_text_px(page) -> float:
    # The font size in user units times the SVG's scale on screen.
    return page.evaluate("""() => Math.min(...[...document.querySelectorAll('svg.chart text')]
        .filter(t => t.textContent.trim())
        .map(t => parseFloat(getComputedStyle(t).fontSize) * t.ownerSVGElement.getScreenCTM().a))""")


def _cut_labels(page) -> list[str]:
    # A label is cut when its drawn text runs past the SVG's right or left edge.
    return page.evaluate("""() => [...document.querySelectorAll('svg.chart')].flatMap(svg => {
        const box = svg.getBoundingClientRect();
        return [...svg.querySelectorAll('text')].filter(t => {
            const r = t.getBoundingClientRect();
            return r.right > box.right + 1 || r.left < box.left - 1;
        }).map(t => t.textContent);
    })""")


@pytest.mark.parametrize("language", ["en", "zh_CN"])
def test_a_supervisor_drills_down_from_a_pareto_bar_to_the_queue(live_server, new_context, shoot, history, language):
    t = TEXTS[language]
    context = new_context(viewport={"width": 1366, "height": 900}, locale=t["lang"],
                          extra_http_headers={"Accept-Language": t["lang"]})
    page = context.new_page()
    _sign_in(page, live_server.url, language)
    page.goto(live_server.url + "/console/dashboard" + RANGE)
    expect(page.locator("#kpi-open .tile-value")).to_have_text("4")
    assert _smallest_chart_text_px(page) >= 12
    assert _cut_labels(page) == []
    shoot(page, f"dashboard-1366-{language}")

    # The bar of slow-delivery complaints is a link named by its label.
    bar = page.locator("#chart-complaints_by_category svg a").filter(
        has=page.locator("text", has_text=t["category"]))
    expect(bar).to_have_count(1)
    bar.click()
    expect(page.get_by_role("heading", level=1)).to_have_text(t["heading"])
    numbers = page.locator("table.tickets tbody td.number a").all_inner_texts()
    assert sorted(numbers) == sorted([history["first"], history["second"]])
    chips = page.locator("#filter-chips li").all_inner_texts()
    assert [re.sub(r"\s*×$", "", c).strip() for c in chips][:2] == t["chips"]
    assert len(chips) == 4  # and the period's two dates
    shoot(page, f"dashboard-drilldown-queue-1366-{language}")

    # On a phone: text still at least 12 px, nothing cut, no sideways scrolling.
    phone = new_context(viewport={"width": 390, "height": 844}, is_mobile=True, locale=t["lang"],
                        extra_http_headers={"Accept-Language": t["lang"]}, storage_state=context.storage_state())
    small = phone.new_page()
    small.goto(live_server.url + "/console/dashboard" + RANGE)
    expect(small.locator("#kpi-open .tile-value")).to_have_text("4")
    assert _smallest_chart_text_px(small) >= 12
    assert _cut_labels(small) == []
    wide = small.evaluate("""() => [...document.querySelectorAll('body *')].filter(e => e.getBoundingClientRect().right > 390.5)
        .map(e => e.tagName + '.' + e.className + ' ' + e.getBoundingClientRect().right).slice(0, 8)""")
    assert small.evaluate("document.documentElement.scrollWidth") <= 390, wide
    folder = shoot(small, f"dashboard-390-{language}").parent
    # Close-ups of the phone page (the full page is too tall to read as one picture).
    for part in ("#kpi-title", "#chart-complaints_by_category", "#chart-tickets_by_week", "#chart-sla_first_response",
                 "#report-agents"):
        target = small.locator(part if part != "#kpi-title" else "section:has(#kpi-title)")
        target.screenshot(path=str(folder / f"dashboard-390-{language}-{part[1:]}.png"))
