"""The ticket page's forms without a reload (issue 16, item 9: "no
full-page reload needed for reply and actions where a script is
available"), in English and Chinese, in a real browser.

A marker set on ``window`` after the page loaded survives every action
(a reload would drop it) and no document is requested after the first:
a public reply, an internal note, a workflow step, assigning to me, the
edit form, a new tracking link, a reply with a file (which arrives), a
stale reply (409: refused, the typed text kept, the change named) sent
again as reply-and-resolve. After each
the page shows the new state and the focus is where console.js puts it
after a reload: on the flash message, or on the refusal. The presence
poll still runs once per 15 s (no second timer after the swaps), the
cancel confirm still guards cancelling, an answer that is no page (no
connection, a proxy's error) leaves the page and the typed text as they
were, and no script error or CSP violation is logged.

Without JavaScript the same forms reload the page: test_no_javascript.py.
"""
from __future__ import annotations

import re
from pathlib import Path

import pytest
from console_login import sign_in
from playwright.sync_api import expect
from sqlalchemy import select

from service.extensions import db
from service.models import Attachment, Message, Ticket

pytestmark = [pytest.mark.browser, pytest.mark.sqlite_only]

PASSWORD = "no-reload-please-1"
TEXTS = {
    "en": {"lang": "en-US", "reply_sent": "Reply sent.", "note_added": "Note added.", "saved": "Saved.",
           "confirmed_flash": "Done: Confirm.", "confirmed": "Confirmed", "in_progress": "In progress",
           "resolved_flash": "Reply sent and ticket resolved.", "resolved": "Resolved",
           "stale": "Someone else changed this ticket meanwhile", "kept": "Your text is kept below",
           "priority": "Priority", "cancelled": "Cancelled", "high": "High",
           "link_mailed": "A new link was mailed to the customer."},
    "zh_CN": {"lang": "zh-CN", "reply_sent": "回复已发送。", "note_added": "备注已添加。", "saved": "已保存。",
              "confirmed_flash": "已完成：确认。", "confirmed": "已确认", "in_progress": "处理中",
              "resolved_flash": "回复已发送，工单已解决。", "resolved": "已解决",
              "stale": "其他人", "kept": "您输入的内容保留在下方", "priority": "优先级", "cancelled": "已作废",
              "high": "高", "link_mailed": "新链接已发到客户的电子邮箱。"},
}


class Watch:
    """What the page did that it should not: documents loaded after the
    first, script errors, console errors (a CSP violation is one)."""

    def __init__(self, page):
        self.page = page
        self.documents: list[str] = []
        self.errors: list[str] = []
        page.on("request", lambda r: self.documents.append(r.url)
                if r.resource_type == "document" and r.frame == page.main_frame else None)
        page.on("pageerror", lambda e: self.errors.append(f"pageerror: {e}"))
        page.on("console", self._console)

    def _console(self, message):
        # The browser asks for /favicon.ico on its own (kefu has none): not the page's doing.
        if message.type == "error" and not message.location.get("url", "").endswith("/favicon.ico"):
            self.errors.append(f"console {message.type}: {message.text} ({message.location.get('url')})")

    def mark(self):
        """After the page's load: a marker a reload would drop, and no document counted so far."""
        self.page.evaluate("window.__kefuMarker = 1")
        self.documents.clear()

    def refused(self, status: int):
        """The browser logs a refusal's status as a failed resource: expected after a refused form."""
        said = f"the server responded with a status of {status}"
        assert any(said in e for e in self.errors), self.errors
        self.errors = [e for e in self.errors if said not in e]

    def same_page(self):
        assert self.page.evaluate("window.__kefuMarker") == 1, "the page was reloaded"
        assert self.documents == [], f"documents loaded: {self.documents}"
        assert self.errors == []
        # The page swapped in is not nested in the old one: one frame, one of each part.
        counts = self.page.evaluate("""() => ['main', '#main', 'header.console-top', '#console-nav', '#bell',
            '#shortcut-help', '#ticket-number', '#presence'].map(s => document.querySelectorAll(s).length)""")
        assert counts == [1] * 8, counts


def _agent(language: str, email: str):
    from service.usecases.staff import create_staff

    staff, _token = create_staff(email, "Fang Yu", "agent", "after_sales", password=PASSWORD)
    staff.language = language
    db.session.commit()
    return staff


def _ticket(number: str) -> Ticket:
    db.session.expire_all()
    return db.session.scalars(select(Ticket).where(Ticket.number == number)).one()


def _last_message(number: str) -> Message:
    return db.session.scalars(select(Message).where(Message.ticket_id == _ticket(number).id)
                              .order_by(Message.id.desc())).first()


def _open(live_server, new_context, staff, number, language, **context):
    page = new_context(locale=TEXTS[language]["lang"], **context).new_page()
    watch = Watch(page)
    sign_in(page, live_server.url, staff.email, PASSWORD)
    expect(page.locator("#logout")).to_be_attached()
    page.goto(f"{live_server.url}/console/tickets/{number}")
    expect(page.locator("#ticket-number")).to_have_text(number)
    page.wait_for_load_state("load")
    watch.mark()
    return page, watch


def _flash(page):
    return page.locator("main .flash[role=status]").first


@pytest.mark.parametrize("language", ["en", "zh_CN"])
def test_reply_note_steps_file_and_refusal_without_a_reload(live_server, new_context, file_ticket, client, agent,
                                                            language):
    t = TEXTS[language]
    me = _agent(language, f"swap.{language}@kefu.test")
    number = file_ticket(subject="Dryer makes a loud noise")["number"]
    page, watch = _open(live_server, new_context, me, number, language, viewport={"width": 1366, "height": 900})
    url = f"{live_server.url}/console/tickets/{number}"

    # A public reply: the flash says so and has the focus, the thread shows it, the box is empty again.
    page.locator("#message-body").fill("We are looking into the noise.")
    page.locator("#send-reply").click()
    expect(_flash(page)).to_have_text(t["reply_sent"])
    expect(_flash(page)).to_be_focused()
    expect(page.locator("ol.thread")).to_contain_text("We are looking into the noise.")
    expect(page.locator("#message-body")).to_have_value("")
    # The page stays at the reply box (the redirect's #reply without a script), not at the top.
    expect(page.locator("#reply-h")).to_be_in_viewport()
    assert page.evaluate("window.scrollY") > 0
    assert page.url == url  # the ticket's page, not the form's address
    watch.same_page()
    sent = _last_message(number)
    assert sent.body == "We are looking into the noise." and not sent.internal

    # An internal note, sent with Ctrl+Enter after n (console.js's shortcut on the swapped-in box).
    page.locator("main h1").click()
    page.keyboard.press("n")
    expect(page.locator("#message-body")).to_be_focused()
    page.keyboard.type("Customer sounded upset.")
    page.keyboard.press("Control+Enter")
    expect(_flash(page)).to_have_text(t["note_added"])
    expect(_flash(page)).to_be_focused()
    expect(page.locator("ol.thread li.note").last).to_contain_text("Customer sounded upset.")
    watch.same_page()
    assert _last_message(number).internal

    # A workflow step with its field: confirm, with the responsible department.
    page.locator("#confirm-department").select_option("after_sales")
    page.locator("#do-confirm").click()
    expect(page.locator("#status")).to_have_text(t["confirmed"])
    expect(_flash(page)).to_have_text(t["confirmed_flash"])
    expect(_flash(page)).to_be_focused()
    expect(page.locator("[data-primary]")).to_have_id("do-start")
    watch.same_page()
    assert _ticket(number).status == "confirmed"

    # Assign to me (the a key): the sidebar's count of my tickets comes with the page.
    expect(page.locator("#side-queue-mine .count")).to_have_text("0")
    page.keyboard.press("a")
    expect(_flash(page)).to_have_text(t["saved"])
    expect(_flash(page)).to_be_focused()
    expect(page.locator("#assign-me")).to_have_count(0)
    expect(page.locator("#side-queue-mine .count")).to_have_text("1")
    # The sidebar came with the page: its shortcuts button is set up again (console.js on htmx:load).
    expect(page.locator("#open-shortcuts")).to_be_visible()
    watch.same_page()
    assert _ticket(number).assignee_id == me.id

    # The primary step (no field): start handling.
    page.locator("#do-start").click()
    expect(page.locator("#status")).to_have_text(t["in_progress"])
    expect(_flash(page)).to_be_focused()
    watch.same_page()

    # The edit form: a new priority, shown in the page's head.
    page.locator("#edit-priority").select_option("high")
    page.locator("#save-edit").click()
    expect(page.locator("#priority")).to_have_text(t["high"])
    expect(_flash(page)).to_have_text(t["saved"])
    expect(_flash(page)).to_be_focused()
    watch.same_page()

    # A new tracking link from the customer card: the page stays at the card (the redirect's
    # #customer-h without a script), the message that says it was mailed has the focus.
    page.locator("#new-tracking-link").click()
    expect(_flash(page)).to_contain_text(t["link_mailed"])
    expect(_flash(page)).to_be_focused()
    expect(page.locator("#customer-h")).to_be_in_viewport()
    assert page.evaluate("window.scrollY") > 0  # scrolled to the card, not left at the top
    watch.same_page()

    # A reply with a file: sent as multipart by htmx, the file arrives and is listed.
    page.locator("#message-body").fill("The service report is attached.")
    page.locator("#reply-files").set_input_files(files=[{
        "name": "report.txt", "mimeType": "text/plain", "buffer": "Drum bearing worn: 修理".encode()}])
    page.locator("#send-reply").click()
    expect(_flash(page)).to_have_text(t["reply_sent"])
    expect(_flash(page)).to_be_focused()
    link = page.locator("ol.thread a[data-attachment]")
    expect(link).to_have_text("report.txt")
    expect(page.locator("#reply-files")).to_have_value("")
    watch.same_page()
    files = db.session.scalars(select(Attachment).where(Attachment.message_id == _last_message(number).id)).all()
    assert [(f.filename, f.size) for f in files] == [("report.txt", len("Drum bearing worn: 修理".encode()))]
    with page.expect_download() as download:
        link.click()
    assert download.value.suggested_filename == "report.txt"
    assert Path(download.value.path()).read_bytes() == "Drum bearing worn: 修理".encode()
    watch.documents.clear()  # the download is a document request of its own, not a reload

    # A stale reply: someone changes the ticket behind the page; the reply is refused (409),
    # the text kept, the change named, the focus on the refusal; the address stays the ticket's.
    page.locator("#message-body").fill("Your dryer will be repaired on Friday.")
    page.locator("#reply-files").set_input_files(files=[{
        "name": "schedule.txt", "mimeType": "text/plain", "buffer": b"Friday 9-12"}])
    version = client.get(f"/api/v1/tickets/{number}", headers=agent).json["version"]
    assert client.patch(f"/api/v1/tickets/{number}", headers=agent,
                        json={"version": version, "priority": "urgent"}).status_code == 200
    with page.expect_response(lambda r: r.url.endswith("/messages")) as answer:
        page.locator("#send-resolve").click()
    assert answer.value.status == 409
    refusal = page.locator("#refusal")
    expect(refusal).to_contain_text(t["stale"])
    expect(refusal).to_contain_text(t["kept"])
    expect(page.locator("#changed")).to_contain_text(t["priority"])
    expect(refusal).to_be_focused()
    expect(page.locator("#message-body")).to_have_value("Your dryer will be repaired on Friday.")
    assert page.url == url
    watch.refused(409)
    watch.same_page()
    assert _last_message(number).body == "The service report is attached."  # nothing sent
    # The file came too: kept on the server, offered ticked (a file input cannot be refilled).
    expect(page.locator("#held-files input[name=held]")).to_be_checked()
    expect(page.locator("#held-files")).to_contain_text("schedule.txt")

    # Sent again from the kept text as reply-and-resolve: one submit, both done.
    page.locator("#send-resolve").click()
    expect(page.locator("#status")).to_have_text(t["resolved"])
    expect(_flash(page)).to_have_text(t["resolved_flash"])
    expect(_flash(page)).to_be_focused()
    expect(page.locator("#refusal")).to_have_count(0)
    expect(page.locator("ol.thread")).to_contain_text("Your dryer will be repaired on Friday.")
    watch.same_page()
    assert _ticket(number).status == "resolved"
    assert _last_message(number).body == "Your dryer will be repaired on Friday."
    files = db.session.scalars(select(Attachment).where(Attachment.message_id == _last_message(number).id)).all()
    assert [(f.filename, f.size) for f in files] == [("schedule.txt", len(b"Friday 9-12"))]


@pytest.mark.parametrize("language", ["en", "zh_CN"])
def test_presence_polls_once_per_interval_after_swaps(live_server, new_context, file_ticket, language):
    me = _agent(language, f"poll.{language}@kefu.test")
    number = file_ticket()["number"]
    page = new_context(locale=TEXTS[language]["lang"]).new_page()
    page.clock.install()
    watch = Watch(page)
    sign_in(page, live_server.url, me.email, PASSWORD)
    expect(page.locator("#logout")).to_be_attached()
    page.goto(f"{live_server.url}/console/tickets/{number}")
    page.wait_for_load_state("load")
    watch.mark()
    polls: list[str] = []
    page.on("request", lambda r: polls.append(r.post_data or "") if r.url.endswith("/presence") else None)
    for text in ("First answer.", "Second answer.", "Third answer."):
        page.locator("#message-body").fill(text)
        page.locator("#send-reply").click()
        expect(page.locator("ol.thread")).to_contain_text(text)
        expect(page.locator("#message-body")).to_have_value("")
    watch.same_page()
    # Typing in the swapped-in box tells colleagues at once (the listener follows the box).
    with page.expect_request(lambda r: r.url.endswith("/presence")) as typed:
        page.locator("#message-body").press_sequentially("D")
    assert "replying" in (typed.value.post_data or "")
    polls.clear()
    page.clock.run_for(45_000)
    page.wait_for_timeout(300)
    assert len(polls) == 3, polls  # one timer, every 15 s: not one more per swap
    watch.same_page()


@pytest.fixture
def boss(app, departments):
    """A supervisor (who may cancel) with a password."""
    from service.usecases.staff import create_staff

    staff, _token = create_staff("boss.swap@kefu.test", "Sun Li", "supervisor", "after_sales", password=PASSWORD)
    db.session.commit()
    return staff


def test_cancelling_is_confirmed_then_done_without_a_reload(live_server, new_context, file_ticket, boss):
    t = TEXTS["en"]
    number = file_ticket()["number"]
    page, watch = _open(live_server, new_context, boss, number, "en")
    sent: list[str] = []
    page.on("request", lambda r: sent.append(r.url) if r.method == "POST" and r.url.endswith("/transition") else None)
    page.locator(".danger-zone summary").click()
    page.locator("#reason-cancel").fill("Duplicate of an older ticket.")
    page.locator("#confirm-cancel").check()
    page.once("dialog", lambda d: d.dismiss())
    page.locator("#do-cancel").click()
    page.wait_for_timeout(300)
    assert sent == []  # declined: nothing sent
    expect(page.locator("#status")).not_to_have_text(t["cancelled"])
    page.once("dialog", lambda d: d.accept())
    page.locator("#do-cancel").click()
    expect(page.locator("#status")).to_have_text(t["cancelled"])
    expect(_flash(page)).to_be_focused()
    assert len(sent) == 1
    watch.same_page()
    assert _ticket(number).status == "cancelled"


@pytest.mark.parametrize("failure", ["offline", "not a page"])
def test_no_answer_leaves_the_page_and_the_text(live_server, new_context, file_ticket, failure):
    me = _agent("en", "offline@kefu.test")
    number = file_ticket()["number"]
    page, watch = _open(live_server, new_context, me, number, "en")
    expect(page.locator("#no-answer")).to_be_hidden()

    def answer(route):
        if failure == "offline":
            route.abort("internetdisconnected")
        else:
            route.fulfill(status=502, content_type="text/plain", body="Bad gateway")

    page.route(re.compile(r".*/messages$"), answer)
    page.locator("#message-body").fill("Sent while the line is down.")
    page.locator("#send-reply").click()
    expect(page.locator("#no-answer")).to_be_visible()
    expect(page.locator("#no-answer")).to_be_focused()
    expect(page.locator("#message-body")).to_have_value("Sent while the line is down.")
    expect(page.locator("#ticket-number")).to_have_text(number)  # <main> was not emptied
    assert page.evaluate("window.__kefuMarker") == 1 and watch.documents == []
    # Errors the browser itself logs for the failed request are expected here; no script error is.
    assert not [e for e in watch.errors if e.startswith("pageerror")], watch.errors
    # Once the line is back the same text goes through.
    page.unroute(re.compile(r".*/messages$"))
    page.locator("#send-reply").click()
    expect(_flash(page)).to_have_text(TEXTS["en"]["reply_sent"])
    expect(page.locator("#no-answer")).to_be_hidden()
    assert _last_message(number).body == "Sent while the line is down."
