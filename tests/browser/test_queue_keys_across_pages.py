"""[ and ] go on across the queue's pages (issue 16, speed of hand): ] on the
last ticket of a page opens the first ticket of the next page, [ on the
first ticket of a page the last of the page before - the pager's links read
without showing those pages. At the very ends they say there is no more."""
from __future__ import annotations

import re

import pytest
from console_login import sign_in
from playwright.sync_api import expect

from service.extensions import db
from service.usecases.staff import create_staff

pytestmark = [pytest.mark.browser, pytest.mark.sqlite_only]

TEXTS = {"en": ("en-US", "This is the last ticket of the queue."),
         "zh_CN": ("zh-CN", "这已是队列中的最后一张工单。")}


@pytest.mark.parametrize("language", ["en", "zh_CN"])
def test_brackets_cross_the_queues_pages(app, live_server, new_context, file_ticket, language):
    locale, last_words = TEXTS[language]
    app.config["CONSOLE_PAGE_SIZE"] = 2
    me, _token = create_staff(f"pages.{language}@kefu.test", "Pan Ye", "agent", "after_sales", password="pages-pass-1")
    me.language = language
    db.session.commit()
    numbers = [file_ticket(subject=f"Paged case {i}")["number"] for i in range(3)]  # newest first: 2 | 1, 0
    page = new_context(locale=locale).new_page()
    sign_in(page, live_server.url, me.email, "pages-pass-1")
    page.wait_for_url(re.compile(r"/console/"))
    page.goto(live_server.url + "/console/queue/unassigned")
    expect(page.locator("table.tickets tbody tr")).to_have_count(2)
    expect(page.locator("#page-next")).to_be_visible()

    # The last ticket of page 1, then ]: the first of page 2.
    page.goto(live_server.url + f"/console/tickets/{numbers[1]}")
    page.keyboard.press("]")
    page.wait_for_url(re.compile(re.escape(f"/console/tickets/{numbers[0]}") + "$"))
    expect(page.locator("#ticket-number")).to_have_text(numbers[0])
    # ] past the queue's very end: it says so and stays.
    page.keyboard.press("]")
    expect(page.locator("#kbd-status")).to_have_text(last_words)
    assert page.url.endswith(f"/console/tickets/{numbers[0]}")
    # [ on the first ticket of page 2: the last of page 1.
    page.keyboard.press("[")
    page.wait_for_url(re.compile(re.escape(f"/console/tickets/{numbers[1]}") + "$"))
    page.keyboard.press("[")
    page.wait_for_url(re.compile(re.escape(f"/console/tickets/{numbers[2]}") + "$"))
