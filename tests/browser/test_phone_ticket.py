"""Issue 16's Done-when, in a real browser, English and Chinese: a phone
ticket created from the console for a new customer with an attachment;
the file shows on the ticket and the customer is mailed their link. And a
customer on a phone sends a photo with the form and finds it on the
tracking page. Screenshots at 1366 and 390 px under test-output/screenshots/."""
from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect
from webpages import PASSWORD

from service.extensions import db
from service.usecases.staff import create_staff

pytestmark = [pytest.mark.browser, pytest.mark.sqlite_only]

PNG = (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1f\x15\xc4\x89"
       b"\x00\x00\x00\rIDATx\x9cc\xf8\x0f\x00\x00\x01\x01\x00\x05\x18\xd8N\x00\x00\x00\x00IEND\xaeB`\x82")
TEXTS = {"en": {"lang": "en-US", "title": "New ticket for a caller", "created": "created",
                "mailed": "The customer was mailed the link", "no_match": "No customer matches",
                "check": "Please check the highlighted fields.", "again": "please choose them again",
                "required": "This field is required.", "files": "Files"},
         "zh_CN": {"lang": "zh-CN", "title": "为来电客户新建工单", "created": "已创建工单",
                   "mailed": "已把跟进案件的链接发到客户的邮箱", "no_match": "没有匹配的客户",
                   "check": "请检查标出的字段。", "again": "请重新选择", "required": "此项为必填。", "files": "文件"}}


def _fits(page, width: int) -> None:
    page.set_viewport_size({"width": width, "height": 900})
    wide = page.evaluate("""w => [...document.querySelectorAll('body *')]
        .filter(e => e.getBoundingClientRect().right > w + 1)
        .map(e => e.tagName + '#' + e.id + '.' + e.className + ' ' + Math.round(e.getBoundingClientRect().right))
        .slice(0, 8)""", width)
    assert page.evaluate("document.documentElement.scrollWidth") <= width, wide


def _photo(name="dent.png"):
    return [{"name": name, "mimeType": "image/png", "buffer": PNG}]


@pytest.mark.parametrize("language", ["en", "zh_CN"])
def test_a_phone_ticket_for_a_new_customer_with_a_file(live_server, new_context, shoot, kefu_mail, language):
    t = TEXTS[language]
    staff, _token = create_staff("desk@kefu.test", "Zhao Lei", "agent", "after_sales", password=PASSWORD)
    staff.language = language
    db.session.commit()
    page = new_context(viewport={"width": 1366, "height": 900}, locale=t["lang"],
                       extra_http_headers={"Accept-Language": t["lang"]}).new_page()
    page.goto(live_server.url + "/console/tickets/new")
    page.locator("#email").fill("desk@kefu.test")
    page.locator("#password").fill(PASSWORD)
    page.locator("#sign-in").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(t["title"])

    # The caller is not known yet: the search says so, "new customer" stays chosen.
    page.locator("#q").fill("Chen Jing")
    page.locator("#find").click()
    expect(page.locator("#no-match")).to_contain_text(t["no_match"])
    expect(page.locator("#new-customer")).to_be_checked()
    expect(page.locator("#q")).to_have_value("Chen Jing")
    page.locator("#name").fill("Chen Jing")
    page.locator("#email").fill("chen.jing@example.test")
    page.locator("#phone").fill("+86 139 1111 2222")
    page.locator("#channel").select_option("phone")
    page.locator("#priority").select_option("high")
    page.locator("#description").fill("The fridge door arrived dented; the driver left before she could check.")
    page.locator("#remedy_text").fill("Replace the door")
    page.locator("#remedy_amount").fill("350")
    page.locator("#note").fill("Calm caller; prefers a call after 18:00.")
    page.set_input_files("#files", _photo())
    # The subject was forgotten: the form again, every value kept, the file to choose again.
    page.locator("#create").click()
    expect(page.locator("#form-errors")).to_have_text(t["check"])
    expect(page.locator("#subject-error")).to_have_text(t["required"])
    expect(page.locator("#files-dropped")).to_contain_text(t["again"])
    expect(page.locator("#name")).to_have_value("Chen Jing")
    expect(page.locator("#note")).to_have_value("Calm caller; prefers a call after 18:00.")
    shoot(page, f"new-ticket-errors-1366-{language}")
    _fits(page, 390)
    shoot(page, f"new-ticket-errors-390-{language}")
    _fits(page, 1366)

    page.locator("#subject").fill("Fridge door dented on delivery")
    page.set_input_files("#files", _photo())
    shoot(page, f"new-ticket-1366-{language}")
    _fits(page, 390)
    shoot(page, f"new-ticket-390-{language}")
    page.locator("#create").click()

    page.wait_for_url(re.compile(r"/console/tickets/KF-\d+$"))
    number = page.url.rsplit("/", 1)[1]
    main = page.locator("main")
    expect(main).to_contain_text(t["created"])
    expect(main).to_contain_text(t["mailed"])
    expect(main).to_contain_text("Fridge door dented on delivery")
    expect(main).to_contain_text("dent.png")  # the file, on the ticket
    expect(main).to_contain_text("Calm caller; prefers a call after 18:00.")
    shoot(page, f"new-ticket-created-390-{language}")
    _fits(page, 1366)
    shoot(page, f"new-ticket-created-1366-{language}")
    [mail] = kefu_mail.find(to="chen.jing@example.test", ticket=number)
    assert mail.notice == "received" and "/track/" in mail.text


@pytest.mark.parametrize("language", ["en", "zh_CN"])
def test_a_customer_sends_a_photo_from_a_phone(live_server, new_context, shoot, language):
    t = TEXTS[language]
    page = new_context(viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True, locale=t["lang"],
                       extra_http_headers={"Accept-Language": t["lang"]}).new_page()
    page.goto(live_server.url + "/")
    if language == "zh_CN" and page.locator("html").get_attribute("lang") != "zh-CN":
        page.locator("form.lang button").click()
    page.locator("#subject").fill("Screen cracked")
    page.locator("#description").fill("Cracked in the box.")
    page.locator("#name").fill("Wang Fang")
    page.locator("#email").fill("wang@example.test")
    page.set_input_files("#files", _photo("crack.png"))
    shoot(page, f"phone-form-photo-{language}")
    page.locator("button.primary[type=submit]").click()
    page.locator("#tracking-link").click()
    files = page.locator("#case-files")
    expect(files.get_by_role("heading")).to_have_text(t["files"])
    expect(files.get_by_role("link", name="crack.png")).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    shoot(page, f"phone-tracking-files-{language}")
    with page.expect_download() as download:
        files.get_by_role("link", name="crack.png").click()
    assert download.value.suggested_filename == "crack.png"
    assert open(download.value.path(), "rb").read() == PNG
