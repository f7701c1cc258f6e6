"""The console with JavaScript switched off (issue 16's "Done when": the same
pages with JavaScript disabled): the queue, the ticket page (a reply and
one workflow step), the search and the settings page all work with plain
links and forms, and the phone's menu opens without a script.

Written against stable ids (#message-body, #send-reply, #do-<action>,
#global-search, rows tr[data-ticket-url]) so that it holds while the
ticket and queue pages change around them.
"""
from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from service.extensions import db
from service.models import Message, Staff, Ticket

pytestmark = [pytest.mark.browser, pytest.mark.sqlite_only]

PASSWORD = "no-script-please-1"


@pytest.fixture
def agent_page(live_server, new_context):
    """A browser without JavaScript, signed in as an agent: ``(page, staff)``."""
    from service.usecases.staff import create_staff

    staff, _token = create_staff("noscript@kefu.test", "Gao Yan", "agent", "after_sales", password=PASSWORD)
    page = new_context(java_script_enabled=False, viewport={"width": 1366, "height": 900}).new_page()
    page.goto(live_server.url + "/console/login?next=/console/queue/all")
    page.locator("#email").fill(staff.email)
    page.locator("#password").fill(PASSWORD)
    page.locator("#sign-in").click()
    page.wait_for_url(re.compile(r"/console/queue/all$"))
    assert page.evaluate("1 + 1") == 2  # Playwright's own evaluation still works; the page's scripts do not run
    return page, staff


def _ticket(number: str) -> Ticket:
    db.session.expire_all()
    return db.session.scalars(select(Ticket).where(Ticket.number == number)).one()


def test_queue_and_ticket_work_without_javascript(agent_page, live_server, file_ticket):
    page, staff = agent_page
    numbers = [file_ticket(subject=f"No script {i}")["number"] for i in range(2)]
    page.reload()
    # The scripts were not run: htmx never set itself up, the shortcuts' button stays hidden.
    assert page.locator("#open-shortcuts").is_hidden()
    # The queue's rows carry data-ticket-url (the script's fallback is not there to add it);
    # before the queue page had it, a row is one holding a link to its ticket.
    rows = page.locator("tr[data-ticket-url], table.tickets tbody tr:not([data-ticket-url]):has(a[href*='/console/tickets/'])")
    expect(rows).to_have_count(2)
    # A filter is a plain GET form.
    page.locator("#q").fill("No script 1")
    page.locator("form#filters button[type=submit]").click()
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text(numbers[1])
    # The sidebar's links are plain links.
    page.locator("#side-queue-unassigned").click()
    page.wait_for_url(re.compile(r"/console/queue/unassigned$"))
    expect(page.locator("#side-queue-unassigned")).to_have_attribute("aria-current", "page")
    page.locator(f'main a[href="/console/tickets/{numbers[0]}"]').first.click()
    expect(page.locator("#ticket-number")).to_have_text(numbers[0])

    # A public reply.
    page.locator("#message-body").fill("Answered without any script.")
    page.locator("#send-reply").click()
    expect(page.locator("main .flash[role=status]").first).to_be_visible()
    sent = db.session.scalars(select(Message).where(Message.ticket_id == _ticket(numbers[0]).id)
                              .order_by(Message.id.desc())).first()
    assert sent.body == "Answered without any script." and not sent.internal
    expect(page.locator("main")).to_contain_text("Answered without any script.")

    # One workflow step: confirm, with the responsible department.
    assert _ticket(numbers[0]).status == "new"
    page.locator("#confirm-department").select_option("after_sales")
    page.locator("#do-confirm").click()
    expect(page.locator("main .flash[role=status]").first).to_be_visible()
    assert _ticket(numbers[0]).status == "confirmed"

    # Assign to me: a plain form too.
    page.locator("#assign-me").click()
    expect(page.locator("#assign-me")).to_have_count(0)
    assert _ticket(numbers[0]).assignee_id == staff.id


def test_the_phone_menu_opens_without_javascript(live_server, new_context):
    from service.usecases.staff import create_staff

    staff, _token = create_staff("phone@kefu.test", "Xu Li", "agent", "after_sales", password=PASSWORD)
    page = new_context(java_script_enabled=False, viewport={"width": 390, "height": 844}, is_mobile=True,
                       has_touch=True).new_page()
    page.goto(live_server.url + "/console/login")
    page.locator("#email").fill(staff.email)
    page.locator("#password").fill(PASSWORD)
    page.locator("#sign-in").click()
    page.wait_for_url(lambda url: "/console/login" not in url)
    expect(page.locator("#console-nav")).to_be_hidden()
    page.locator(".menu-button").click()
    expect(page.locator("#console-nav")).to_be_visible()
    page.locator("#side-queue-all").click()
    page.wait_for_url(re.compile(r"/console/queue/all$"))
    assert page.evaluate("document.documentElement.scrollWidth") <= 390


def test_settings_work_without_javascript(agent_page):
    page, staff = agent_page
    page.locator("#nav-settings").click()
    page.wait_for_url(re.compile(r"/console/settings$"))
    page.locator("#language").select_option("zh_CN")
    page.locator("#timezone").select_option("Asia/Shanghai")
    page.locator("main form button[type=submit]").click()
    expect(page.locator("main .flash[role=status]").first).to_have_text("设置已保存。")
    db.session.expire_all()
    saved = db.session.get(Staff, staff.id)
    assert (saved.language, saved.timezone) == ("zh_CN", "Asia/Shanghai")


def test_the_header_search_works_without_javascript(app, agent_page, file_ticket):
    if "console_search.search" not in app.view_functions:
        pytest.skip("the search page (console_search.search) comes with the queue pages' change")
    page, _staff = agent_page
    number = file_ticket(subject="Findable without script")["number"]
    page.locator("#global-search").fill("Findable without script")
    page.locator("#global-search-go").click()
    page.wait_for_url(re.compile(r"/console/search\?q="))
    expect(page.locator("main")).to_contain_text(number)
    expect(page.locator("#global-search")).to_have_value("Findable without script")
