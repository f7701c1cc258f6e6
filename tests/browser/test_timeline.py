"""The customer's timeline in a real browser: an earlier resolution and the
customer's own reason stay visible after a second resolution, on a phone and
a desktop screen, in English and Chinese (screenshots under test-output/)."""
from __future__ import annotations

import pytest
from playwright.sync_api import expect

pytestmark = [pytest.mark.browser, pytest.mark.sqlite_only]

TEXTS = {
    "en": {"earlier": "Earlier resolution", "rejected": "You did not accept the resolution", "lang": "en-US"},
    "zh_CN": {"earlier": "之前的处理结果", "rejected": "您未接受处理结果", "lang": "zh-CN"},
}


@pytest.mark.parametrize("language", ["en", "zh_CN"])
def test_the_timeline_keeps_what_was_proposed_and_answered(live_server, new_context, shoot, file_ticket,
                                                           agent, act, language):
    filed = file_ticket(language=language)
    number, token = filed["number"], filed["token"]
    for action, fields in (("confirm", {"department": "logistics"}), ("start", {}),
                           ("resolve", {"resolution": "We sent a new power cable."})):
        act(agent, number, action, **fields)
    t = TEXTS[language]
    for width, height, name in ((390, 844, "phone"), (1366, 900, "desktop")):
        context = new_context(viewport={"width": width, "height": height}, locale=t["lang"],
                              extra_http_headers={"Accept-Language": t["lang"]})
        page = context.new_page()
        page.goto(f"{live_server.url}/track/{token}")
        if name == "phone":
            # Reject on the page, as the customer would.
            page.locator("#reject").click()
            page.locator("#reason").fill("The cable was not the problem.")
            page.locator("form button[type=submit]").last.click()
            act(agent, number, "resolve", resolution="A technician replaced the fan.")
            page.goto(f"{live_server.url}/track/{token}")
        timeline = page.locator("#messages")
        expect(timeline.get_by_text(t["earlier"])).to_be_visible()
        expect(timeline.get_by_text("We sent a new power cable.")).to_be_visible()
        expect(timeline.get_by_text(t["rejected"])).to_be_visible()
        expect(timeline.get_by_text("The cable was not the problem.")).to_be_visible()
        expect(page.locator("#resolution")).to_have_text("A technician replaced the fan.")
        assert page.evaluate("document.documentElement.scrollWidth") <= width
        shoot(page, f"timeline-{name}-{language}")
        context.close()
