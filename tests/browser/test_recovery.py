"""A customer recovers a case by number and e-mail in a real browser (issue
20's Done-when): from the form's link to the mailed link opening the case,
on a phone screen in English and Chinese (screenshots under test-output/)."""
from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

pytestmark = [pytest.mark.browser, pytest.mark.sqlite_only]

TEXTS = {"en": {"lang": "en-US", "find": "Already filed? Find your case", "send": "Send me the link",
                "asked": "we have sent its link"},
         "zh_CN": {"lang": "zh-CN", "find": "已经提交过？找回您的案件", "send": "把链接发给我",
                   "asked": "已把链接发到该案件登记的电子邮箱"}}


@pytest.mark.parametrize("language", ["en", "zh_CN"])
def test_a_customer_recovers_a_case_by_number_and_e_mail(live_server, new_context, shoot, file_ticket,
                                                          kefu_mail, language):
    filed = file_ticket(email="lost.link@example.test", subject="Dryer stops after ten minutes")
    kefu_mail.clear()
    t = TEXTS[language]
    page = new_context(viewport={"width": 390, "height": 844}, is_mobile=True, locale=t["lang"],
                       extra_http_headers={"Accept-Language": t["lang"]}).new_page()
    page.goto(live_server.url + "/")
    page.get_by_role("link", name=t["find"]).click()
    page.locator("#number").fill(filed["number"])
    page.locator("#contact").fill("lost.link@example.test")
    shoot(page, f"phone-find-case-{language}")
    page.get_by_role("button", name=t["send"]).click()
    expect(page.locator("#asked")).to_contain_text(t["asked"])
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    shoot(page, f"phone-find-case-asked-{language}")
    [mail] = kefu_mail.find(to="lost.link@example.test", notice="link", ticket=filed["number"])
    path = re.search(r"http://[^/\s]+(/track/\S+)", mail.text).group(1)
    page.goto(live_server.url + path)
    expect(page.get_by_role("heading", level=1)).to_contain_text("Dryer stops after ten minutes")
