"""The complaint journey as a list of steps, each a function of one shared
``Journey``: a customer files on the form, an agent confirms with a
department, starts and resolves, the customer rejects with a reason, the
agent resolves again, the customer accepts and answers the satisfaction
survey, the ticket is closed.

Steps are data so that another step (e.g. answering the satisfaction
survey once that plugin is in) can be inserted into ``STEPS`` at its place.
"""
from __future__ import annotations

import re
import time
from dataclasses import dataclass, field

from playwright.sync_api import Page, expect

# What each language's pages say at the checkpoints.
TEXTS = {
    "en": {"form_title": "Tell us what went wrong", "received": "Thank you, we have received it",
           "status_resolved": "Resolved", "status_in_progress": "In progress", "status_closed": "Closed",
           "sign_in": "Sign in", "subject": "Subject", "description": "What happened? In your own words",
           "name": "Your name", "email": "E-mail", "queues": "My tickets", "reason": "Why does it not solve it?",
           "survey_thanks": "Thank you for your answer"},
    "zh_CN": {"form_title": "告诉我们遇到了什么问题", "received": "谢谢，我们已收到",
              "status_resolved": "已解决", "status_in_progress": "处理中", "status_closed": "已结案",
              "sign_in": "登录", "subject": "主题", "description": "发生了什么？请用您自己的话描述",
              "name": "您的姓名", "email": "电子邮箱", "queues": "我的工单", "reason": "为什么没有解决？",
              "survey_thanks": "感谢您的回答"},
}


@dataclass
class Journey:
    base: str
    customer: Page
    agent: Page
    agent_email: str
    agent_password: str
    language: str
    shoot: object
    subject: str = "Washing machine not delivered"
    description: str = "Ordered two weeks ago, still not here."
    number: str | None = None
    track_url: str | None = None
    notes: list = field(default_factory=list)

    @property
    def t(self) -> dict:
        return TEXTS[self.language]

    def shot(self, page: Page, name: str) -> None:
        self.shoot(page, f"{self.language}-{name}")


def file_complaint(j: Journey) -> None:
    """The customer files on the public form and gets the number and the private link."""
    page = j.customer
    page.goto(j.base + "/")
    expect(page.get_by_role("heading", level=1)).to_have_text(j.t["form_title"])
    page.get_by_label(j.t["subject"]).fill(j.subject)
    page.get_by_label(j.t["description"]).fill(j.description)
    page.get_by_label(j.t["name"]).fill("王芳" if j.language == "zh_CN" else "Wang Fang")
    page.get_by_label(j.t["email"]).fill(f"wang.{j.language}@example.test")
    j.shot(page, "customer-form")
    page.locator("form.stack button[type=submit]").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(j.t["received"])
    j.number = page.locator("#ticket-number").inner_text()
    j.track_url = page.locator("#tracking-link").get_attribute("href")
    assert re.fullmatch(r"KF-\d{6}", j.number)
    assert "/track/" in j.track_url
    j.shot(page, "customer-filed")


def agent_signs_in(j: Journey) -> None:
    """The agent signs in on the console."""
    page = j.agent
    page.goto(j.base + "/console/")
    expect(page.get_by_role("heading", level=1)).to_be_visible()
    page.locator("#email").fill(j.agent_email)
    page.locator("#password").fill(j.agent_password)
    page.locator("#sign-in").click()
    expect(page.locator("#queue-mine")).to_contain_text(j.t["queues"])


def _open_ticket(j: Journey) -> None:
    page = j.agent
    page.goto(j.base + "/console/queue/all")
    page.get_by_role("link", name=j.number).click()
    expect(page.locator("#ticket-number")).to_have_text(j.number)


def agent_confirms_starts_resolves(j: Journey) -> None:
    """Confirm with the responsible department, start handling, resolve."""
    page = j.agent
    _open_ticket(j)
    # Each step waits for the page to show its result, as the agent does: with a
    # script the page changes without a reload (no navigation to wait for).
    page.locator("#assign-me").click()
    expect(page.locator("#assign-me")).to_have_count(0)
    page.locator("#confirm-department").select_option("logistics")
    page.locator("#do-confirm").click()
    expect(page.locator("[data-primary]")).to_have_id("do-start")
    page.locator("#do-start").click()
    expect(page.locator("[data-primary]")).to_have_id("do-resolve")
    page.locator("#message-body").fill("We are checking with the warehouse.")
    page.locator("#send-reply").click()
    expect(page.locator("ol.thread")).to_contain_text("We are checking with the warehouse.")
    page.locator("#message-body").fill("Warehouse says the truck broke down.")
    page.locator("#add-note").click()
    expect(page.locator("ol.thread")).to_contain_text("Warehouse says the truck broke down.")
    page.locator("#resolution-text").fill("Delivered today with a 100 yuan voucher.")
    page.locator("#do-resolve").click()
    expect(page.locator("#status")).to_have_text(j.t["status_resolved"])
    j.shot(page, "console-ticket")


def customer_rejects(j: Journey) -> None:
    """The customer sees the resolution (not the internal note) and rejects it with a reason."""
    page = j.customer
    page.goto(j.track_url)
    expect(page.locator("#status")).to_have_text(j.t["status_resolved"])
    expect(page.locator("#resolution")).to_have_text("Delivered today with a 100 yuan voucher.")
    expect(page.locator("#messages")).to_contain_text("We are checking with the warehouse.")
    expect(page.locator("body")).not_to_contain_text("truck broke down")
    j.shot(page, "customer-tracking")
    page.locator("#reject").click()
    page.get_by_label(j.t["reason"]).fill("It arrived scratched.")
    page.locator("#confirm-reject").click()
    expect(page.locator("#status")).to_have_text(j.t["status_in_progress"])


def agent_resolves_again(j: Journey) -> None:
    """The agent sees the reason in the timeline and resolves again."""
    page = j.agent
    _open_ticket(j)
    expect(page.locator("#timeline")).to_contain_text("It arrived scratched.")
    page.locator("#resolution-text").fill("Replaced with a new machine.")
    page.locator("#do-resolve").click()
    expect(page.locator("#status")).to_have_text(j.t["status_resolved"])


def customer_accepts(j: Journey) -> None:
    """The customer accepts the new resolution."""
    page = j.customer
    page.goto(j.track_url)
    expect(page.locator("#resolution")).to_have_text("Replaced with a new machine.")
    page.locator("#accept").click()
    page.locator("#confirm-accept").click()


def customer_answers_survey(j: Journey) -> None:
    """The satisfaction survey of the accepted resolution shows on the
    tracking page once delivered (by the in-process job runner); the
    customer follows its link and answers: solved, 5 of 5, a comment."""
    page = j.customer
    link = page.locator('[data-panel="satisfaction_survey"] a')
    deadline = time.monotonic() + 20
    while True:  # delivery is a background job: look again until it has run
        page.goto(j.track_url)
        if link.count() or time.monotonic() > deadline:
            break
        page.wait_for_timeout(300)
    expect(link).to_have_count(1)
    j.shot(page, "customer-tracking-survey")
    link.click()
    page.locator('input[name="solved"][value="yes"]').check()
    page.locator('input[name="rating"][value="5"]').check()
    page.locator("textarea[name=comment]").fill("Quick and friendly.")
    j.shot(page, "customer-survey")
    page.locator("form button[type=submit]").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(j.t["survey_thanks"])


def ticket_is_closed(j: Journey) -> None:
    """Both sides see the ticket closed; the customer can no longer answer."""
    page = j.customer
    page.goto(j.track_url)
    expect(page.locator("#status")).to_have_text(j.t["status_closed"])
    expect(page.locator("#accept")).to_have_count(0)
    j.shot(page, "customer-closed")
    _open_ticket(j)
    expect(j.agent.locator("#status")).to_have_text(j.t["status_closed"])


STEPS = [file_complaint, agent_signs_in, agent_confirms_starts_resolves, customer_rejects,
         agent_resolves_again, customer_accepts, customer_answers_survey, ticket_is_closed]
