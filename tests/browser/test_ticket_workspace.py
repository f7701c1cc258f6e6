"""The ticket page in a real browser, in English and Chinese: two agents on
one ticket (presence, a stale reply kept with what changed named), reply
and resolve in one click, cancelling confirmed with and without
JavaScript, and screenshots at desktop and phone widths."""
from __future__ import annotations

from pathlib import Path

import pytest
from console_login import sign_in
from playwright.sync_api import expect

pytestmark = [pytest.mark.browser, pytest.mark.sqlite_only]
PASSWORD = "agent-password-123"
SHOTS = Path("/tmp/shots-ticket")
TEXTS = {
    "en": {"lang": "en-US", "viewing": "Zhou Jie is also viewing", "replying": "Zhou Jie is replying",
           "stale": "Someone else changed this ticket meanwhile", "edited": "Edited", "priority": "Priority",
           "resolved": "Resolved", "cancelled": "Cancelled"},
    "zh_CN": {"lang": "zh-CN", "viewing": "Zhou Jie 也在查看", "replying": "Zhou Jie 正在回复",
              "stale": "其他人", "edited": "已编辑", "priority": "优先级", "resolved": "已解决",
              "cancelled": "已作废"},
}


@pytest.fixture
def accounts(app, departments):
    """``accounts(language)``: two agents and a supervisor with passwords, in ``language``."""
    from service.extensions import db
    from service.usecases.staff import create_staff

    def make(language):
        made = {}
        for key, name, role in (("li", "Li Lei", "agent"), ("zhou", "Zhou Jie", "agent"),
                                ("boss", "Sun Li", "supervisor")):
            staff, _token = create_staff(f"{key}.{language}@kefu.test", name, role, "after_sales",
                                         password=PASSWORD)
            staff.language = language
            made[key] = staff
        db.session.commit()
        return made

    return make


def _sign_in(page, base, staff):
    sign_in(page, base, staff.email, PASSWORD)
    expect(page.locator("#logout")).to_be_attached()


@pytest.mark.parametrize("language", ["en", "zh_CN"])
def test_two_agents_on_one_ticket_a_stale_reply_is_kept(live_server, new_context, accounts, file_ticket, agent,
                                                        act, language):
    t = TEXTS[language]
    staff = accounts(language)
    number = file_ticket()["number"]
    act(agent, number, "confirm", department="logistics")
    act(agent, number, "start")
    url = f"{live_server.url}/console/tickets/{number}"
    li = new_context(locale=t["lang"]).new_page()
    zhou = new_context(locale=t["lang"]).new_page()
    _sign_in(li, live_server.url, staff["li"])
    _sign_in(zhou, live_server.url, staff["zhou"])
    li.goto(url)
    zhou.goto(url)
    # Zhou starts typing: his page tells the server at once; Li sees it on her next look.
    with zhou.expect_response(lambda r: r.url.endswith("/presence") and r.request.method == "POST"):
        zhou.locator("#message-body").fill("I am calling the warehouse now.")
    li.locator("#message-body").fill("Your washer arrives tomorrow morning.")
    expect(li.locator("[data-primary]")).to_have_id("do-resolve")
    li_text = li.locator("#message-body").input_value()
    # Zhou changes the ticket meanwhile (priority), from his own page.
    zhou.locator("#edit-priority").select_option("urgent")
    zhou.locator("#save-edit").click()
    expect(zhou.locator("#priority")).to_contain_text("Urgent" if language == "en" else "紧急")
    # Li sends and resolves: refused (409), her text kept, the change named.
    li.locator("#send-resolve").click()
    expect(li.locator("#refusal")).to_contain_text(t["stale"])
    expect(li.locator("#changed")).to_contain_text("Zhou Jie")
    expect(li.locator("#changed")).to_contain_text(t["edited"])
    expect(li.locator("#changed")).to_contain_text(t["priority"])
    expect(li.locator("#message-body")).to_have_value(li_text)
    expect(li.locator("#presence")).to_contain_text("Zhou Jie")
    # Sent again from the kept text, it goes through: one reply, ticket resolved.
    li.locator("#send-resolve").click()
    expect(li.locator("#status")).to_have_text(t["resolved"])
    expect(li.locator("ol.thread")).to_contain_text("Your washer arrives tomorrow morning.")
    assert li.locator("ol.thread").get_by_text("Your washer arrives tomorrow morning.").count() >= 1
    li.close()
    zhou.close()


@pytest.mark.parametrize("language", ["en", "zh_CN"])
def test_presence_updates_while_the_page_is_open(live_server, new_context, accounts, file_ticket, language):
    t = TEXTS[language]
    staff = accounts(language)
    number = file_ticket()["number"]
    url = f"{live_server.url}/console/tickets/{number}"
    li = new_context(locale=t["lang"]).new_page()
    zhou = new_context(locale=t["lang"]).new_page()
    _sign_in(li, live_server.url, staff["li"])
    _sign_in(zhou, live_server.url, staff["zhou"])
    zhou.goto(url)
    li.goto(url)
    expect(li.locator("#presence")).to_contain_text(t["viewing"])  # first render, no script needed
    with zhou.expect_response(lambda r: r.url.endswith("/presence") and r.request.method == "POST"):
        zhou.locator("#message-body").fill("Drafting an answer")
    # Li's page polls by itself (every 15 s): her view changes without a reload.
    expect(li.locator("#presence")).to_contain_text(t["replying"], timeout=20000)


@pytest.mark.parametrize("javascript", [True, False])
def test_cancelling_asks_for_a_confirmation(live_server, new_context, accounts, file_ticket, javascript):
    staff = accounts("en")
    number = file_ticket()["number"]
    boss = new_context(java_script_enabled=javascript).new_page()
    _sign_in(boss, live_server.url, staff["boss"])
    boss.goto(f"{live_server.url}/console/tickets/{number}")
    expect(boss.locator("#do-cancel")).to_have_text("Cancel ticket")
    boss.locator(".danger-zone summary").click()
    boss.locator("#reason-cancel").fill("Duplicate of an older ticket.")
    dialogs = []
    if javascript:
        boss.locator("#confirm-cancel").check()
        boss.once("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
        boss.locator("#do-cancel").click()
        expect(boss.locator("#do-cancel")).to_be_visible()
        assert dialogs and number in dialogs[0]
        boss.once("dialog", lambda d: d.accept())
        boss.locator("#do-cancel").click()
    else:
        # Without the box ticked the browser itself refuses (required); the server would too.
        boss.locator("#do-cancel").click()
        expect(boss.locator("#status")).not_to_have_text("Cancelled")
        boss.locator("#confirm-cancel").check()
        boss.locator("#do-cancel").click()
    expect(boss.locator("#status")).to_have_text("Cancelled")


def _colleague_on(path: str) -> None:
    """The demo's supervisor has the ticket at ``path`` open and is typing."""
    from pagecatalogue import EMAILS
    from sqlalchemy import select

    from service.extensions import db
    from service.models import Staff, Ticket
    from service.usecases import presence

    number = path.rsplit("/", 1)[-1]
    ticket = db.session.scalars(select(Ticket).where(Ticket.number == number)).one()
    boss = db.session.scalars(select(Staff).where(Staff.email == EMAILS["supervisor"])).one()
    presence.mark(ticket.id, boss.id, "replying")


@pytest.mark.parametrize("language", ["en", "zh_CN"])
def test_screenshots_of_the_ticket_page(demo_server, new_context, language):
    from pagecatalogue import EMAILS, PASSWORDS

    server, catalogue = demo_server
    t = TEXTS[language]
    SHOTS.mkdir(parents=True, exist_ok=True)
    path = dict(catalogue.pages["agent"])["ticket-open"]
    for width, height, name in ((1366, 900, "desktop"), (390, 844, "phone")):
        page = new_context(viewport={"width": width, "height": height}, locale=t["lang"]).new_page()
        page.goto(server.url + "/console/login")
        page.locator("#email").fill(EMAILS["agent"])
        page.locator("#password").fill(PASSWORDS["agent"])
        page.locator("#sign-in").click()
        if language == "zh_CN":
            page.goto(server.url + "/console/settings")
            page.locator("select[name=language]").select_option("zh_CN")
            page.locator("main form button[type=submit]").last.click()
        page.goto(server.url + path)
        expect(page.locator("#ticket-number")).to_be_visible()
        if name == "desktop":
            # A note, and a reply with a file the customer sent back by mail, sent from the page.
            page.locator("#message-body").fill("Installer confirmed the extra charge was not authorised.")
            page.locator("#add-note").click()
            # The note shows before the reply is written (with a script the page does not reload).
            expect(page.locator("ol.thread")).to_contain_text("Installer confirmed the extra charge")
            page.locator("#message-body").fill("We are refunding the 200 yuan; the receipt is attached.")
            page.locator("#reply-files").set_input_files(files=[{
                "name": "receipt.txt", "mimeType": "text/plain", "buffer": b"Refund 200.00 CNY"}])
            page.locator("#send-reply").click()
            link = page.locator("ol.thread a[data-attachment]")
            expect(link).to_have_text("receipt.txt")
            with page.expect_download() as download:
                link.click()
            assert download.value.suggested_filename == "receipt.txt"
        _colleague_on(path)
        page.goto(server.url + path)
        expect(page.locator("#presence")).not_to_be_empty()
        page.locator("#activity summary").click()
        assert page.evaluate("document.documentElement.scrollWidth") <= width
        page.screenshot(path=str(SHOTS / f"ticket-{language}-{name}.png"), full_page=True)
        page.context.close()
