"""A phone-sized screen and the keyboard alone: the customer files a complaint
on a 390x844 viewport using only the keyboard; and screenshots of the
console's main pages."""
from __future__ import annotations

import pytest
from playwright.sync_api import expect

pytestmark = [pytest.mark.browser, pytest.mark.sqlite_only]


def test_filing_on_a_phone_with_the_keyboard_only(live_server, new_context, shoot):
    page = new_context(viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True).new_page()
    page.goto(live_server.url + "/")
    # Nothing is wider than the screen (no sideways scrolling).
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    # The first Tab reaches the skip link, which jumps to the content.
    page.keyboard.press("Tab")
    expect(page.locator("a.skip")).to_be_focused()
    page.keyboard.press("Enter")
    # Tab through the form in order and type into each field.
    order = ["#kind", "#category", "#subject", "#description", "#remedy", "#name", "#email"]
    typed = {"#subject": "Fridge is loud", "#description": "It hums all night.", "#name": "Zhang Wei",
             "#email": "zhang@example.test"}
    for selector in order:
        page.keyboard.press("Tab")
        expect(page.locator(selector)).to_be_focused()
        if selector in typed:
            page.keyboard.type(typed[selector])
    shoot(page, "phone-customer-form")
    page.keyboard.press("Enter")  # Enter in a text field sends the form
    expect(page.locator("#ticket-number")).to_have_text("KF-000001")
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    page.locator("#tracking-link").click()
    expect(page.locator("#description")).to_have_text("It hums all night.")
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    shoot(page, "phone-customer-tracking")


def test_screenshots_of_the_console_pages(live_server, new_context, shoot, app):
    from service.usecases.staff import create_staff

    create_staff("boss@kefu.test", "Zhao Min", "admin", "after_sales", password="boss-password-1")
    customer = new_context().new_page()
    for subject in ("Washer not delivered", "Installer charged extra", "Nobody answers the hotline"):
        customer.goto(live_server.url + "/")
        customer.locator("#subject").fill(subject)
        customer.locator("#description").fill("Please help.")
        customer.locator("#name").fill("Chen Jing")
        customer.locator("#email").fill("chen@example.test")
        customer.locator("form.stack button[type=submit]").click()
        expect(customer.locator("#ticket-number")).to_be_visible()
    page = new_context(viewport={"width": 1280, "height": 900}).new_page()
    page.goto(live_server.url + "/console/login")
    page.locator("#email").fill("boss@kefu.test")
    page.locator("#password").fill("boss-password-1")
    page.locator("#sign-in").click()
    page.locator("#queue-all").click()
    expect(page.locator("table.tickets tbody tr")).to_have_count(3)
    shoot(page, "console-queue")
    page.goto(live_server.url + "/console/dashboard")
    expect(page.locator("figure.chart-card svg").first).to_be_visible()
    assert page.locator("figure.chart-card").count() >= 5
    shoot(page, "console-dashboard")
    page.goto(live_server.url + "/console/admin/jobs")
    expect(page.locator("h1")).to_be_visible()
    shoot(page, "console-admin-jobs")
