"""The complaint journey in a real browser, in English and in Chinese, and
the XSS case (a complaint with a script tag shows as text)."""
from __future__ import annotations

import pytest
from playwright.sync_api import expect

from journey import STEPS, Journey

pytestmark = [pytest.mark.browser, pytest.mark.sqlite_only]
PASSWORD = "agent-password-123"


@pytest.fixture
def agent_account(app, departments):
    """An agent with a password, in the language the test asks for."""
    from service.extensions import db
    from service.usecases.staff import create_staff

    def make(language="en"):
        staff, _token = create_staff(f"agent.{language}@kefu.test", "Li Lei", "agent", "after_sales",
                                     password=PASSWORD)
        staff.language = language
        db.session.commit()
        return staff

    return make


@pytest.mark.parametrize("overrides", [{"JOBS_IN_PROCESS": True, "SURVEY_DELAY": 0}])
@pytest.mark.parametrize("language,browser_locale", [("en", "en-GB"), ("zh_CN", "zh-CN")])
def test_complaint_journey(live_server, new_context, agent_account, shoot, language, browser_locale):
    staff = agent_account(language)
    journey = Journey(
        base=live_server.url, customer=new_context(locale=browser_locale).new_page(),
        agent=new_context(locale="en-US").new_page(), agent_email=staff.email, agent_password=PASSWORD,
        language=language, shoot=shoot)
    for step in STEPS:
        step(journey)


def test_script_in_a_complaint_renders_as_text(live_server, new_context, agent_account, shoot):
    staff = agent_account("en")
    customer = new_context().new_page()
    dialogs = []
    customer.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    payload = '<script>window.__xss = 1; alert("xss")</script><img src=x onerror="window.__xss = 2">'
    journey = Journey(base=live_server.url, customer=customer, agent=new_context().new_page(),
                      agent_email=staff.email, agent_password=PASSWORD, language="en", shoot=shoot,
                      subject="<b>bold</b> subject", description=payload)
    STEPS[0](journey)  # file it on the form

    customer.goto(journey.track_url)
    expect(customer.locator("#description")).to_have_text(payload)
    expect(customer.locator("h1")).to_contain_text("<b>bold</b> subject")
    assert customer.evaluate("window.__xss") is None
    assert customer.locator("#description script, #description img").count() == 0

    STEPS[1](journey)  # the agent signs in
    agent = journey.agent
    agent.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    agent.goto(f"{live_server.url}/console/tickets/{journey.number}")
    expect(agent.locator("#description")).to_have_text(payload)
    assert agent.evaluate("window.__xss") is None
    agent.goto(f"{live_server.url}/console/queue/all")
    expect(agent.locator("table.tickets")).to_contain_text("<b>bold</b> subject")
    assert agent.evaluate("window.__xss") is None
    assert dialogs == []
    shoot(customer, "xss-tracking")
