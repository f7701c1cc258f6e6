"""Bulk-assigning ten tickets from the queue in a real browser (issue 16,
item 7, Done-when): a plugin's guard vetoes one of them, the other nine are
assigned, and the summary names the refused one with the plugin's reason -
in English with the page's script (select-all box), in Chinese without any
script (the "select every ticket on this page" link). Screenshots of the
queue at 1366 and 390 px in both languages go to /tmp/shots-queue/ and
test-output/screenshots/."""
from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from console_login import sign_in
from playwright.sync_api import expect
from webpages import PASSWORD

from service import hookimpl
from service.extensions import db
from service.models import Ticket
from service.models.base import utcnow
from service.usecases.staff import create_staff

pytestmark = [pytest.mark.browser, pytest.mark.sqlite_only]

SHOTS = Path("/tmp/shots-queue")
TEXTS = {"en": {"summary": "9 changed, 1 refused.", "reason": "Frozen for the audit.", "bulk": "Bulk actions"},
         "zh_CN": {"summary": "9 张已更改，1 张被拒绝。", "reason": "该工单因审计冻结。", "bulk": "批量操作"}}


class AuditHold:
    """A guard that vetoes every change to one ticket, in the page's language."""

    def __init__(self, number):
        self.number = number

    @hookimpl
    def guard_ticket_change(self, ticket, change, actor):
        if ticket.number != self.number:
            return None
        from flask_babel import get_locale
        chinese = str(get_locale() or "").startswith("zh")
        return {"code": "audit_hold", "message": "该工单因审计冻结。" if chinese else "Frozen for the audit."}


def _keep(path: Path) -> None:
    # A copy beside the other helpers' screenshots, for the issue's review.
    SHOTS.mkdir(parents=True, exist_ok=True)
    (SHOTS / path.name).write_bytes(path.read_bytes())


def _sign_in(page, base, language):
    staff, _token = create_staff(f"bulk-{language}@kefu.test", "Li Na", "agent", "after_sales", password=PASSWORD)
    staff.language = language
    db.session.commit()
    sign_in(page, base, staff.email)
    expect(page.locator("#queue-mine")).to_be_visible()
    return staff


@pytest.mark.parametrize("language,script", [("en", True), ("zh_CN", False)])
def test_bulk_assign_ten_with_one_refused_by_a_guard(live_server, new_context, kefu_plugins, file_ticket, shoot,
                                                     language, script):
    t = TEXTS[language]
    made = [file_ticket(subject=f"Washer {n} arrived damaged", name=f"Customer {n}")["number"] for n in range(10)]
    frozen = made[4]
    kefu_plugins.register(AuditHold(frozen), name="audit_hold")
    # Some rows at risk and past due, so the badges and bands show.
    now = utcnow()
    for number, minutes in ((made[0], -90), (made[1], 45), (made[2], 60 * 30)):
        db.session.execute(sa.update(Ticket).where(Ticket.number == number).values(first_response_due=now + timedelta(minutes=minutes)))
    db.session.commit()

    page = new_context(viewport={"width": 1366, "height": 900}, java_script_enabled=script).new_page()
    me = _sign_in(page, live_server.url, language)
    page.goto(live_server.url + "/console/queue/all?sort=created&dir=asc")
    expect(page.locator("table.tickets tbody tr")).to_have_count(10)
    page.locator("#bulk summary").click()
    expect(page.locator("#bulk summary")).to_contain_text(t["bulk"])
    if script:
        page.locator("#select-all").check()
    else:
        expect(page.locator("#select-all")).to_be_hidden()
        page.locator("#select-page").click()
        page.locator("#bulk summary").click()
    for number in made:
        expect(page.locator(f"#pick-{number}")).to_be_checked()
    page.locator("#bulk-action").select_option("assign_me")
    _keep(shoot(page, f"queue-bulk-1366-{language}"))
    page.locator("#bulk-apply").click()

    expect(page.locator("#bulk-summary")).to_have_text(t["summary"])
    refused = page.locator("#bulk-refused li")
    expect(refused).to_have_count(1)
    expect(refused).to_contain_text(frozen)
    expect(refused.locator(".reason")).to_have_text(t["reason"])
    expect(page.locator("#bulk-done li")).to_have_count(9)
    _keep(shoot(page, f"bulk-result-1366-{language}"))
    with db.engine.connect() as conn:
        assignees = dict(conn.execute(sa.select(Ticket.id, Ticket.assignee_id)).all())
    assert sorted(k for k, v in assignees.items() if v == me.id) == sorted(
        int(n.split("-")[1]) for n in made if n != frozen)
    assert assignees[int(frozen.split("-")[1])] is None

    page.locator("#bulk-back").click()
    expect(page.locator(f'tr[data-number="{made[0]}"]')).to_have_class("overdue sla-row-breached")
    expect(page.locator(f'tr[data-number="{made[1]}"]')).to_have_class("sla-row-at_risk")
    for width, height in ((1366, 900), (390, 844)):
        page.set_viewport_size({"width": width, "height": height})
        # The numbers never wrap: one line each, whatever the width.
        # (The link's own box: the cell is as tall as its row, which wraps other cells.)
        heights = page.locator("table.tickets td.number a").evaluate_all(
            "links => links.map(a => a.getBoundingClientRect().height)")
        line = page.locator("table.tickets td.number a").first.evaluate(
            "a => parseFloat(getComputedStyle(a).lineHeight) || a.getBoundingClientRect().height")
        assert max(heights) < 2 * line + 16, heights
        _keep(shoot(page, f"queue-{width}-{language}"))


def test_the_script_offers_the_steps_legal_for_every_checked_row(live_server, new_context, file_ticket, agent, act):
    fresh, confirmed = file_ticket()["number"], file_ticket()["number"]
    act(agent, confirmed, "confirm", department="logistics")
    page = new_context(viewport={"width": 1366, "height": 900}).new_page()
    _sign_in(page, live_server.url, "en")
    page.goto(live_server.url + "/console/queue/all")
    page.locator("#bulk summary").click()
    confirm, start = (page.locator(f'#bulk-action option[value="{a}"]') for a in ("confirm", "start"))
    # Nothing checked: the steps legal for every row on the page - none in common.
    expect(confirm).to_be_disabled()
    expect(start).to_be_disabled()
    page.locator(f"#pick-{fresh}").check()
    expect(confirm).to_be_enabled()
    expect(start).to_be_disabled()
    page.locator(f"#pick-{confirmed}").check()
    expect(confirm).to_be_disabled()
    page.locator(f"#pick-{fresh}").uncheck()
    expect(start).to_be_enabled()
    expect(page.locator("#select-all")).to_have_js_property("indeterminate", True)
