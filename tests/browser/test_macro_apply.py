"""Canned replies in a real browser (issue 16's Done-when: "a macro applied
and sent"), in English and Chinese: an agent inserts a macro into the
ticket's reply box, edits it and sends it, and the customer's tracking page
shows the reply with its placeholders filled; "Apply and send" with a next
step; and the same without JavaScript (the preview page). Screenshots of the
management page and the picker at 1366 and 390 px."""
from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect
from webpages import PASSWORD

from service.extensions import db
from service.usecases import macros
from service.usecases.staff import create_staff

pytestmark = [pytest.mark.browser, pytest.mark.sqlite_only]

TEXTS = {
    "en": {"lang": "en-US", "customer": "Emma Clark", "inserted": "Inserted.", "waiting": "Waiting on the customer",
           "sent": "Reply sent."},
    "zh_CN": {"lang": "zh-CN", "customer": "王芳", "inserted": "已插入。", "waiting": "等待客户回复",
              "sent": "回复已发送。"},
}


def _agent(language):
    staff, _token = create_staff(f"macro-agent-{language}@kefu.test", "Zhou Jie", "agent", "after_sales",
                                 password=PASSWORD)
    staff.language = language
    db.session.commit()
    return staff


def _signed_in(new_context, base, staff, language, width=1366, height=900, script=True):
    t = TEXTS[language]
    page = new_context(viewport={"width": width, "height": height}, locale=t["lang"], java_script_enabled=script,
                       extra_http_headers={"Accept-Language": t["lang"]}).new_page()
    page.goto(base + "/console/login")
    page.locator("#email").fill(staff.email)
    page.locator("#password").fill(PASSWORD)
    page.locator("#sign-in").click()
    page.wait_for_url(lambda url: "/console/login" not in url)
    return page


def _ticket(file_ticket, act, agent, language):
    filed = file_ticket(name=TEXTS[language]["customer"], email=f"customer-{language}@example.test",
                        language=language)
    act(agent, filed["number"], "confirm", department="after_sales")
    act(agent, filed["number"], "start")
    return filed["number"], filed["token"]


def _greeting(staff):
    return macros.create_macro(staff, {
        "name": "Greeting", "body_en": "Dear {customer_name}, about {ticket_number}: follow it at {tracking_link}",
        "body_zh": "{customer_name}您好，关于 {ticket_number}：请在此查看 {tracking_link}"})


@pytest.mark.parametrize("language", ["en", "zh_CN"])
def test_an_agent_inserts_edits_and_sends_a_macro(live_server, new_context, shoot, file_ticket, act, agent,
                                                  language):
    staff = _agent(language)
    macro = _greeting(staff)
    number, token = _ticket(file_ticket, act, agent, language)
    t = TEXTS[language]
    page = _signed_in(new_context, live_server.url, staff, language)
    page.goto(f"{live_server.url}/console/tickets/{number}")
    page.locator("#macro-choice").select_option(str(macro.id))
    page.locator("#macro-insert").click()
    box = page.locator("#message-body")
    expect(box).to_have_value(re.compile(re.escape(t["customer"]) + ".*" + re.escape(number) + ".*/track/"))
    expect(box).to_be_focused()
    expect(page.locator("#macro-status")).to_have_text(t["inserted"])
    shoot(page, f"macro-inserted-{language}")
    box.press("End")
    box.type(" PS: thanks for waiting.")
    page.locator("#send-reply").click()
    expect(page.get_by_text(t["sent"])).to_be_visible()
    # The customer reads it, placeholders filled, and the link in it opens their case.
    customer = new_context(locale=t["lang"]).new_page()
    customer.goto(f"{live_server.url}/track/{token}")
    reply = customer.locator("#messages .from-staff .body").last
    expect(reply).to_contain_text(t["customer"])
    expect(reply).to_contain_text(number)
    expect(reply).to_contain_text("PS: thanks for waiting.")
    assert "{" not in reply.inner_text()
    link = re.search(r"http://\S+/track/\S+", reply.inner_text()).group(0)
    customer.goto(link)
    expect(customer.get_by_role("heading", level=1)).to_contain_text("Washing machine not delivered")


@pytest.mark.parametrize("language", ["en", "zh_CN"])
def test_apply_and_send_with_a_next_step(live_server, new_context, file_ticket, act, agent, language):
    staff = _agent(language)
    photo = macros.create_macro(staff, {"name": "Photo", "body_en": "{customer_name}, a photo please.",
                                        "body_zh": "{customer_name}，请发照片。", "set_status": "wait"})
    number, token = _ticket(file_ticket, act, agent, language)
    t = TEXTS[language]
    page = _signed_in(new_context, live_server.url, staff, language, 390, 844)
    page.goto(f"{live_server.url}/console/tickets/{number}")
    page.locator("#macro-choice").select_option(str(photo.id))
    page.locator("#macro-apply").click()
    expect(page.locator("#status")).to_have_text(t["waiting"])
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    customer = new_context(locale=t["lang"]).new_page()
    customer.goto(f"{live_server.url}/track/{token}")
    expected = "Emma Clark, a photo please." if language == "en" else "王芳，请发照片。"
    expect(customer.locator("#messages .from-staff .body").last).to_have_text(expected)


@pytest.mark.parametrize("language", ["en", "zh_CN"])
def test_without_javascript_the_preview_page_edits_and_sends(live_server, new_context, file_ticket, act, agent,
                                                             language):
    staff = _agent(language)
    macro = _greeting(staff)
    number, token = _ticket(file_ticket, act, agent, language)
    page = _signed_in(new_context, live_server.url, staff, language, script=False)
    page.goto(f"{live_server.url}/console/tickets/{number}")
    page.locator("#macro-choice").select_option(str(macro.id))
    page.locator("#macro-insert").click()
    page.wait_for_url(re.compile(rf"/console/tickets/{number}/macros/{macro.id}$"))
    body = page.locator("#macro-body")
    expect(body).to_have_value(re.compile(re.escape(TEXTS[language]["customer"])))
    body.fill(body.input_value() + "\nEdited without a script.")
    page.locator("#macro-send").click()
    page.wait_for_url(re.compile(rf"/console/tickets/{number}(#timeline)?$"))
    customer = new_context(locale=TEXTS[language]["lang"]).new_page()
    customer.goto(f"{live_server.url}/track/{token}")
    expect(customer.locator("#messages .from-staff .body").last).to_contain_text("Edited without a script.")


@pytest.mark.parametrize("language", ["en", "zh_CN"])
def test_screenshots_of_the_management_page_and_the_picker(demo_server, new_context, shoot, language):
    from pagecatalogue import EMAILS, PASSWORDS
    from sqlalchemy import select

    from service.models import Staff, Ticket

    server, _catalogue = demo_server
    supervisor = db.session.scalars(select(Staff).where(Staff.email == EMAILS["supervisor"])).one()
    supervisor.language = language
    db.session.commit()
    number = db.session.scalars(select(Ticket).where(Ticket.status == "in_progress")).first().number
    for width, height in ((1366, 900), (390, 844)):
        page = new_context(viewport={"width": width, "height": height}, locale=TEXTS[language]["lang"]).new_page()
        page.goto(server.url + "/console/login")
        page.locator("#email").fill(EMAILS["supervisor"])
        page.locator("#password").fill(PASSWORDS["supervisor"])
        page.locator("#sign-in").click()
        page.wait_for_url(lambda url: "/console/login" not in url)
        page.goto(server.url + "/console/macros")
        expect(page.locator("#macro-list li")).to_have_count(3)
        assert page.evaluate("document.documentElement.scrollWidth") <= width
        shoot(page, f"macros-page-{width}-{language}")
        page.goto(server.url + "/console/macros/new")
        shoot(page, f"macros-form-{width}-{language}")
        page.goto(f"{server.url}/console/tickets/{number}")
        page.locator("#macro-insert").click()
        expect(page.locator("#macro-status")).not_to_be_empty()
        assert page.evaluate("document.documentElement.scrollWidth") <= width
        page.locator("#reply-h").scroll_into_view_if_needed()
        page.screenshot(path=str(shoot(page, f"macros-picker-{width}-{language}").with_name(
            f"macros-picker-view-{width}-{language}.png")))
        page.goto(f"{server.url}/console/tickets/{number}/macros/{page.locator('#macro-choice').input_value()}")
        expect(page.locator("#macro-body")).not_to_be_empty()
        shoot(page, f"macros-preview-{width}-{language}")
        page.context.close()
