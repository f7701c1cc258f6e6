"""Notices in a real browser, in English and in Chinese: a customer's reply
on the tracking page makes the assignee's bell count rise and their queue
row say "customer replied", and the assignee gets the mail (a real SMTP
server on loopback, sent by the in-process job runner)."""
from __future__ import annotations

import re

import pytest
from jobparts import smtp_settings, wait_until
from playwright.sync_api import expect

pytestmark = [pytest.mark.browser, pytest.mark.sqlite_only]
PASSWORD = "agent-password-123"
TEXTS = {
    "en": {"replied": "Customer replied", "unread": "Unread", "bell": "1 unread notice",
           "notice": "Wang Fang replied", "subject": "The customer replied: Washing machine not delivered"},
    "zh_CN": {"replied": "客户已回复", "unread": "未读", "bell": "1 条未读通知",
              "notice": "Wang Fang 回复了", "subject": "客户已回复：Washing machine not delivered"},
}




@pytest.fixture
def overrides(smtp_sink):
    return {"JOBS_IN_PROCESS": True, **smtp_settings(smtp_sink)}


@pytest.mark.parametrize("language,browser_locale", [("en", "en-GB"), ("zh_CN", "zh-CN")])
def test_a_customer_reply_reaches_the_assignee(app, live_server, client, new_context, smtp_sink, shoot,
                                               file_ticket, language, browser_locale):
    from service.extensions import db
    from service.usecases.staff import create_staff

    t = TEXTS[language]
    owner, _ = create_staff(f"owner.{language}@kefu.test", "Li Lei", "agent", "logistics", password=PASSWORD)
    owner.language = language
    db.session.commit()
    _lead, lead_token = create_staff(f"lead.{language}@kefu.test", "Zhao Min", "agent", "logistics")
    lead = {"Authorization": f"Bearer {lead_token}"}
    filed = file_ticket()
    number = filed["number"]
    version = client.get(f"/api/v1/tickets/{number}", headers=lead).json["version"]
    assert client.patch(f"/api/v1/tickets/{number}", headers=lead,
                        json={"version": version, "assignee": owner.id}).status_code == 200

    agent = new_context(locale=browser_locale).new_page()
    agent.goto(live_server.url + "/console/")
    agent.locator("#email").fill(owner.email)
    agent.locator("#password").fill(PASSWORD)
    agent.locator("#sign-in").click()
    # Opening the ticket reads its notice (the assignment) and marks it seen.
    agent.goto(f"{live_server.url}/console/tickets/{number}")
    agent.goto(live_server.url + "/console/queue/mine")
    expect(agent.locator("#bell-count")).to_have_count(0)
    row = agent.locator("table.tickets tr", has=agent.locator(f'a[href="/console/tickets/{number}"]'))
    expect(row).not_to_contain_text(t["replied"])

    # The customer writes on their tracking page.
    customer = new_context(locale=browser_locale).new_page()
    customer.goto(f"{live_server.url}/track/{filed['token']}")
    customer.locator("#body").fill("Any news about the delivery?")
    customer.locator("form:has(#body) button[type=submit]").click()
    expect(customer.locator("body")).to_contain_text("Any news about the delivery?")

    agent.goto(live_server.url + "/console/queue/mine")
    expect(agent.locator("#bell-count")).to_have_text("1")
    expect(agent.locator("#bell")).to_have_attribute("aria-label", t["bell"])
    expect(row).to_contain_text(t["replied"])
    expect(row).to_contain_text(t["unread"])
    shoot(agent, f"{language}-queue-customer-replied")
    agent.locator("#bell").click()
    expect(agent.locator("#notices")).to_contain_text(t["notice"])
    shoot(agent, f"{language}-notices")

    # The mail, in the assignee's language, with the console's link.
    def mailed():
        return [m for m in smtp_sink.handler_obj.messages if m["To"].addresses[0].addr_spec == owner.email
                and t["subject"] in m["Subject"]]

    wait_until(lambda: mailed(), timeout=30, what="the reply's mail to the assignee")
    [mail] = mailed()
    assert mail["Subject"] == f"[{number}] {t['subject']}"
    link = re.search(r"(http://\S+/console/tickets/\S+)", mail.get_body(("plain",)).get_content()).group(1)
    assert link.endswith(f"/console/tickets/{number}")

    # Opening it from the list reads it: the bell is empty again.
    agent.goto(live_server.url + "/console/notifications")
    agent.locator("#notices a", has_text=number).first.click()
    expect(agent).to_have_url(re.compile(rf"/console/tickets/{number}$"))
    agent.goto(live_server.url + "/console/queue/mine")
    expect(agent.locator("#bell-count")).to_have_count(0)
    expect(row).not_to_contain_text(t["replied"])

