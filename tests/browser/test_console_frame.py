"""The console's frame in a real browser, at a desk (1366 px) and on a phone
(390 px), in English and Chinese: the sidebar beside the page on a desk and
behind a "Menu" switch on a phone (no script needed), nothing wider than
the screen, and screenshots of the queue, a ticket and the customer's form
(test-output/screenshots/frame-*)."""
from __future__ import annotations

import pytest
from pagecatalogue import EMAILS, PASSWORDS
from playwright.sync_api import expect
from sqlalchemy import select

from service.extensions import db
from service.models import Staff, Ticket

pytestmark = [pytest.mark.browser, pytest.mark.sqlite_only]

LOCALES = {"en": "en-US", "zh": "zh-CN"}
SIZES = {"desk": {"width": 1366, "height": 900}, "phone": {"width": 390, "height": 844}}


def _sign_in(page, base: str, role: str = "agent") -> None:
    page.goto(base + "/console/login")
    page.locator("#email").fill(EMAILS[role])
    page.locator("#password").fill(PASSWORDS[role])
    page.locator("#sign-in").click()
    page.wait_for_url(lambda url: "/console/login" not in url)


def _fits(page, width: int) -> None:
    assert page.evaluate("document.documentElement.scrollWidth") <= width


@pytest.mark.parametrize("language", ["en", "zh"])
@pytest.mark.parametrize("size", ["desk", "phone"])
def test_the_frame_at_a_desk_and_on_a_phone(demo_server, new_context, shoot, language, size):
    server, _catalogue = demo_server
    staff = db.session.scalars(select(Staff).where(Staff.email == EMAILS["agent"])).one()
    staff.language = "zh_CN" if language == "zh" else "en"
    db.session.commit()
    number = db.session.scalars(select(Ticket).where(Ticket.status == "in_progress").order_by(Ticket.id)).first().number
    viewport = SIZES[size]
    context = new_context(locale=LOCALES[language], viewport=viewport,
                          extra_http_headers={"Accept-Language": LOCALES[language]},
                          **({"is_mobile": True, "has_touch": True} if size == "phone" else {}))
    visitor = context.new_page()
    visitor.goto(server.url + "/")
    _fits(visitor, viewport["width"])
    shoot(visitor, f"frame-{language}-{size}-customer-form")

    page = context.new_page()
    _sign_in(page, server.url)
    sidebar = page.locator("#console-nav")
    if size == "desk":
        expect(sidebar).to_be_visible()
        expect(page.locator(".menu-button")).to_be_hidden()
    else:
        # Folded behind the menu switch; its label opens it (a checkbox: no script involved).
        expect(sidebar).to_be_hidden()
        page.locator(".menu-button").click()
        expect(sidebar).to_be_visible()
        expect(page.locator("#side-queue-mine")).to_be_visible()
    expect(page.locator("#side-queue-mine")).to_have_attribute("aria-current", "page")
    expect(page.locator("#global-search")).to_be_visible()
    _fits(page, viewport["width"])
    shoot(page, f"frame-{language}-{size}-queue")
    page.goto(server.url + f"/console/tickets/{number}")
    expect(page.locator("#ticket-number")).to_have_text(number)
    _fits(page, viewport["width"])
    shoot(page, f"frame-{language}-{size}-ticket")
