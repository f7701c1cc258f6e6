"""An agent's keyboard-only journey through the console (issue 16's "Done
when": the keyboard-only journey through a ticket), in English and Chinese.

Sign in with Tab and Enter; / to the search box; j / k through the queue and
Enter to open a ticket; r to reply, type, Ctrl+Enter to send; n for an
internal note; ] and [ to the next and previous ticket of the queue; a to
assign to me; ? for the help and Esc to close it; g q back to the queue; a
search sent with Enter. Every step asserts where the focus is and what the
page now says, not only that a key was pressed.

Written against stable ids (#message-body, #send-reply, #add-note,
#assign-me, #global-search, rows tr[data-ticket-url]) so that it holds
while the ticket and queue pages change around them.
"""
from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from service.extensions import db
from service.models import Message, Staff, Ticket

pytestmark = [pytest.mark.browser, pytest.mark.sqlite_only]

LOCALES = {"en": "en-US", "zh_CN": "zh-CN"}
TEXTS = {
    "en": {"help": "Keyboard shortcuts", "reply_sent": "Reply sent.", "note_added": "Note added.", "saved": "Saved."},
    "zh_CN": {"help": "键盘快捷键", "reply_sent": "回复已发送。", "note_added": "备注已添加。", "saved": "已保存。"},
}
PASSWORD = "keyboard-only-1"


def _focused(page) -> str:
    """The focused element as ``tag#id`` (or its text when it has no id)."""
    return page.evaluate("() => { const e = document.activeElement; return e ? e.tagName.toLowerCase()"
                         " + (e.id ? '#' + e.id : ':' + (e.textContent || '').trim().slice(0, 40)) : ''; }")


def _press_until_focused(page, key: str, selector: str, most: int = 12) -> None:
    for _ in range(most):
        if page.evaluate("s => document.activeElement === document.querySelector(s)", selector):
            return
        page.keyboard.press(key)
    expect(page.locator(selector)).to_be_focused()


@pytest.mark.parametrize("language", ["en", "zh_CN"])
def test_a_ticket_worked_with_the_keyboard_only(live_server, new_context, file_ticket, shoot, language):
    from service.usecases.staff import create_staff

    t = TEXTS[language]
    me, _token = create_staff("keys@kefu.test", "Lin Jian", "agent", "after_sales", password=PASSWORD)
    me.language = language
    db.session.commit()
    numbers = [file_ticket(subject=f"Keyboard case {i}")["number"] for i in range(3)]
    page = new_context(locale=LOCALES[language], viewport={"width": 1366, "height": 900}).new_page()
    base = live_server.url

    # Sign in: Tab to the fields, type, Enter.
    page.goto(base + "/console/login?next=/console/queue/unassigned")
    _press_until_focused(page, "Tab", "#email")
    page.keyboard.type("keys@kefu.test")
    page.keyboard.press("Tab")
    expect(page.locator("#password")).to_be_focused()
    page.keyboard.type(PASSWORD)
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r"/console/queue/unassigned$"))
    # After the redirect the focus is on the page's heading, not lost on the body.
    expect(page.locator("main h1")).to_be_focused()

    # / jumps to the search box; Esc leaves it (the typed words stay) and the shortcuts work again.
    page.keyboard.press("/")
    expect(page.locator("#global-search")).to_be_focused()
    page.keyboard.type("Keyboard")
    expect(page.locator("#global-search")).to_have_value("Keyboard")  # "/" itself was not typed
    page.keyboard.press("Escape")
    expect(page.locator("#global-search")).not_to_be_focused()

    # j / k move through the rows (newest first), Enter opens the chosen one.
    rows = page.locator("tr[data-ticket-url]")
    expect(rows).to_have_count(3)
    urls = [rows.nth(i).get_attribute("data-ticket-url") for i in range(3)]
    assert urls == [f"/console/tickets/{n}" for n in reversed(numbers)]
    page.keyboard.press("j")
    expect(rows.nth(0)).to_have_class(re.compile(r"\bkbd-current\b"))
    expect(rows.nth(0).locator(f'a[href="{urls[0]}"]')).to_be_focused()
    page.keyboard.press("j")
    expect(rows.nth(1).locator(f'a[href="{urls[1]}"]')).to_be_focused()
    page.keyboard.press("k")
    expect(rows.nth(0).locator(f'a[href="{urls[0]}"]')).to_be_focused()
    expect(rows.nth(1)).not_to_have_class(re.compile(r"\bkbd-current\b"))
    shoot(page, f"keyboard-{language}-queue")
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(re.escape(urls[0]) + "$"))
    expect(page.locator("#ticket-number")).to_have_text(numbers[2])

    # r: the reply box; Ctrl+Enter sends the public reply; the focus lands on the result.
    page.keyboard.press("r")
    expect(page.locator("#message-body")).to_be_focused()
    page.keyboard.type("We are on it, sent from the keyboard.")
    page.keyboard.press("Control+Enter")
    page.wait_for_load_state()
    flash = page.locator("main .flash[role=status]").first
    expect(flash).to_have_text(t["reply_sent"])
    expect(flash).to_be_focused()
    ticket = db.session.scalars(select(Ticket).where(Ticket.number == numbers[2])).one()
    sent = db.session.scalars(select(Message).where(Message.ticket_id == ticket.id)
                              .order_by(Message.id.desc())).first()
    assert sent.body == "We are on it, sent from the keyboard." and not sent.internal

    # ] : the next ticket of the queue the agent came from.
    page.keyboard.press("]")
    page.wait_for_url(re.compile(re.escape(urls[1]) + "$"))
    expect(page.locator("#ticket-number")).to_have_text(numbers[1])

    # n: the same box writes an internal note, and Ctrl+Enter adds it as one.
    page.keyboard.press("n")
    expect(page.locator("#message-body")).to_be_focused()
    expect(page.locator("#message-body")).to_have_class(re.compile(r"\bnote-mode\b"))
    expect(page.locator("#add-note")).to_have_attribute("data-armed", "true")
    page.keyboard.type("Customer called twice.")
    page.keyboard.press("Control+Enter")
    expect(page.locator("main .flash[role=status]").first).to_have_text(t["note_added"])
    # The focus on the result also says the page's script is running: the next key is not lost.
    expect(page.locator("main .flash[role=status]").first).to_be_focused()
    ticket = db.session.scalars(select(Ticket).where(Ticket.number == numbers[1])).one()
    db.session.expire_all()
    note = db.session.scalars(select(Message).where(Message.ticket_id == ticket.id)
                              .order_by(Message.id.desc())).first()
    assert note.body == "Customer called twice." and note.internal

    # a: assign to me.
    page.keyboard.press("a")
    expect(page.locator("main .flash[role=status]").first).to_have_text(t["saved"])
    expect(page.locator("main .flash[role=status]").first).to_be_focused()
    db.session.expire_all()
    assert db.session.scalars(select(Ticket).where(Ticket.number == numbers[1])).one().assignee_id == me.id
    expect(page.locator("#assign-me")).to_have_count(0)

    # ? opens the help (focus inside), Esc closes it and the focus goes back.
    page.keyboard.press("?")
    help_ = page.locator("#shortcut-help")
    expect(help_).to_have_attribute("open", "")
    expect(page.locator("#shortcut-help-h")).to_have_text(t["help"])
    expect(page.locator("#close-shortcuts")).to_be_focused()
    shoot(page, f"keyboard-{language}-help")
    page.keyboard.press("Escape")
    expect(help_).not_to_have_attribute("open", "")
    expect(page.locator("main .flash[role=status]").first).to_be_focused()

    # [ : back to the previous ticket of the queue; g q: to the queue.
    page.keyboard.press("[")
    page.wait_for_url(re.compile(re.escape(urls[0]) + "$"))
    page.keyboard.press("g")
    page.keyboard.press("q")
    page.wait_for_url(re.compile(r"/console/$"))

    # A search sent from the header box with Enter.
    page.keyboard.press("s")
    expect(page.locator("#global-search")).to_be_focused()
    page.keyboard.type(numbers[0])
    page.keyboard.press("Enter")
    # An exact ticket number goes straight to the ticket (the search page's shortcut).
    page.wait_for_url(re.compile(r"/console/tickets/" + re.escape(numbers[0]) + "$"))
    assert db.session.get(Staff, me.id).language == language
