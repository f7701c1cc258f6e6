"""An admin changes the SLA policy in a real browser and the next ticket
runs on it (issue 20, item 3): sign in, open the SLA policy page from the
admin navigation, change one first-response target, save; a ticket filed
afterwards for that tier and priority gets the new target and its due time.
Screenshots (test-output/screenshots/) of the SLA page, the webhooks page
and the staff table at 1366 and 390 px wide, in English and Chinese."""
from __future__ import annotations

from datetime import datetime

import pytest
from playwright.sync_api import expect
from webpages import PASSWORD

from plugins.tier_sla.calendar import Calendar
from plugins.tier_sla.policy import DEFAULT_POLICY
from service.extensions import db
from service.usecases.staff import create_staff

pytestmark = [pytest.mark.browser, pytest.mark.sqlite_only]

TEXTS = {"en": {"locale": "en-US", "admin": "Admin", "sla": "SLA policy", "save": "Save as new version",
                "saved": "SLA policy saved as version", "label": "Small / Normal / First response",
                "webhooks": "Webhooks", "staff": "Staff", "jobs": "Background jobs", "plugins": "Plugins",
                "tiers": "Tier overrides", "categories": "Categories"},
         "zh": {"locale": "zh-CN", "admin": "管理", "sla": "服务时限策略", "save": "保存为新版本",
                "saved": "服务时限策略已保存为第", "label": "小客户 / 普通 / 首次响应",
                "webhooks": "Webhook 回调", "staff": "员工", "jobs": "后台任务", "plugins": "插件",
                "tiers": "客户等级调整", "categories": "类别"}}
WIDE, PHONE = {"width": 1366, "height": 768}, {"width": 390, "height": 844}


def _no_sideways_scroll(page, width: int) -> None:
    assert page.evaluate("document.documentElement.scrollWidth") <= width


@pytest.mark.parametrize("language", ["en", "zh"])
def test_an_admin_changes_a_target_and_the_next_ticket_gets_it(live_server, new_context, shoot, file_ticket,
                                                               make_staff, admin, client, language):
    t = TEXTS[language]
    me, _token = create_staff(f"sla-admin-{language}@kefu.test", "Admin Lin", "admin", "after_sales",
                              password=PASSWORD)
    me.language = language
    db.session.commit()
    for _ in range(7):  # with the API's admin, nine people on the staff table
        make_staff("agent")
    page = new_context(viewport=WIDE, locale=t["locale"]).new_page()
    page.goto(live_server.url + "/console/login")
    page.locator("#email").fill(me.email)
    page.locator("#password").fill(PASSWORD)
    page.locator("#sign-in").click()
    page.get_by_role("link", name=t["admin"], exact=True).first.click()
    page.get_by_role("link", name=t["sla"], exact=True).first.click()
    expect(page.get_by_role("heading", level=1)).to_have_text(t["sla"])

    # The fallback tier ("small") is what a new customer's ticket runs on;
    # a ticket filed on the public form is of normal priority.
    small_normal = page.get_by_label(t["label"], exact=True)
    expect(small_normal).to_have_value(str(DEFAULT_POLICY["targets"]["small"]["normal"]["first_response"]))
    small_normal.fill("35")
    shoot(page, f"admin-sla-1366-{language}")
    _no_sideways_scroll(page, 1366)
    page.get_by_role("button", name=t["save"]).click()
    expect(page.locator(".flash.ok")).to_contain_text(t["saved"])
    expect(page.get_by_label(t["label"], exact=True)).to_have_value("35")

    filed = file_ticket(subject="Fridge hums loudly")
    sla = client.get(f"/api/v1/tickets/{filed['number']}/sla", headers=admin).json["sla"]
    version = client.get("/api/v1/sla/policy", headers=admin).json["version"]
    assert sla["policy"]["version"] == version and sla["policy"]["calendar"] == "business"
    first = sla["targets"]["first_response"]
    assert first["business_minutes"] == 35
    policy = client.get("/api/v1/sla/policy", headers=admin).json["data"]
    calendar = Calendar.from_dict({**policy["calendars"]["business"], "name": "business"})
    started = datetime.fromisoformat(sla["started_at"])
    assert datetime.fromisoformat(first["due"]) == calendar.add(started, 35)
    # The console's ticket page shows that due time.
    page.goto(live_server.url + f"/console/tickets/{filed['number']}")
    expect(page.locator("#ticket-number")).to_have_text(filed["number"])

    # A webhook endpoint registered: its secret is shown this once.
    page.goto(live_server.url + "/console/admin/webhooks/")
    page.locator("#url").fill("https://erp.example.com/hooks/kefu")
    page.locator("#event-1").check()
    page.locator("#register-endpoint button[type=submit]").click()
    expect(page.locator("#new-secret")).to_be_visible()
    shoot(page, f"admin-webhooks-secret-1366-{language}")

    # The pages, wide and on a phone.
    for width, viewport in (("1366", WIDE), ("390", PHONE)):
        page.set_viewport_size(viewport)
        for path, name, heading in (("/console/admin/sla/policy", "sla", t["sla"]),
                                    ("/console/admin/webhooks/", "webhooks", t["webhooks"]),
                                    ("/console/admin/staff", "staff", t["staff"]),
                                    ("/console/admin/jobs", "jobs", t["jobs"]),
                                    ("/console/admin/plugins", "plugins", t["plugins"]),
                                    ("/console/admin/sla/tiers", "tiers", t["tiers"]),
                                    ("/console/admin/categories", "categories", t["categories"])):
            page.goto(live_server.url + path)
            expect(page.get_by_role("heading", level=1)).to_have_text(heading)
            _no_sideways_scroll(page, viewport["width"])
            if not (name == "sla" and width == "1366"):
                saved = shoot(page, f"admin-{name}-{width}-{language}")
                if name == "sla" and width == "390":
                    # A phone's screenful of the targets and of the ladder, to look at.
                    page.screenshot(path=str(saved.with_name(f"admin-sla-390-top-{language}.png")))
                    page.locator("#ladder0\\.name").scroll_into_view_if_needed()
                    page.screenshot(path=str(saved.with_name(f"admin-sla-390-ladder-{language}.png")))
            if name == "staff" and width == "1366":
                # Nine people and the table's header fit on one screen.
                last = page.locator("#staff-table tbody tr").last
                box = last.bounding_box()
                assert page.locator("#staff-table tbody tr").count() == 9
                assert box["y"] + box["height"] <= 768, box
