"""A supervisor merges two records of the same person in a real browser
(issue 20, item 1): found in the customer list, merged through the profile's
confirmation page, and the kept profile shows every ticket, survey and
transaction of both. Screenshots of the list and the profile at 1366 and 390
px, in English and Chinese, under test-output/screenshots/."""
from __future__ import annotations

import re

import customerparts as parts
import pytest
from playwright.sync_api import expect
from webpages import PASSWORD

from service.extensions import db
from service.usecases.staff import create_staff

pytestmark = [pytest.mark.browser, pytest.mark.sqlite_only]

TEXTS = {"en": {"lang": "en-US", "customers": "Customers", "surveys": "Surveys (2)"},
         "zh_CN": {"lang": "zh-CN", "customers": "客户", "surveys": "问卷（2）"}}


def _fits(page, width: int) -> None:
    page.set_viewport_size({"width": width, "height": 900})
    wide = page.evaluate("""w => [...document.querySelectorAll('body *')]
        .filter(e => e.getBoundingClientRect().right > w + 1)
        .map(e => e.tagName + '#' + e.id + '.' + e.className + ' ' + Math.round(e.getBoundingClientRect().right))
        .slice(0, 8)""", width)
    assert page.evaluate("document.documentElement.scrollWidth") <= width, wide


@pytest.mark.parametrize("language", ["en", "zh_CN"])
def test_a_supervisor_merges_two_records_of_the_same_person(live_server, new_context, shoot, file_ticket,
                                                            language):
    t = TEXTS[language]
    kept = parts.customer("Chen Jing", email="chen.jing@example.test", ref="C-10", language=language)
    dup = parts.customer("Chen Jing", phone="+86 135 1234 5678", ref="C-11")
    for person, tag, amount in ((kept, "web", 880_000), (dup, "phone", 120_000)):
        first = parts.ticket_for(file_ticket, person, f"Fridge leaks ({tag})")
        parts.survey(person, first, 4 if tag == "web" else 2, solved=tag == "web")
        parts.transaction(person, f"INV-{tag}", amount)
    parts.ticket_for(file_ticket, kept, "Fridge still leaks (web)")
    parts.tier(kept, "major", 880_000, 3)
    parts.tier(dup, "small", 120_000, 40)
    staff, _token = create_staff("boss@kefu.test", "Zhang Wei", "supervisor", "after_sales", password=PASSWORD)
    staff.language = language
    db.session.commit()

    page = new_context(viewport={"width": 1366, "height": 900}, locale=t["lang"],
                       extra_http_headers={"Accept-Language": t["lang"]}).new_page()
    page.goto(live_server.url + "/console/")
    page.locator("#email").fill("boss@kefu.test")
    page.locator("#password").fill(PASSWORD)
    page.locator("#sign-in").click()
    page.locator("#nav-customers").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(t["customers"])
    page.locator("#q").fill("chen")
    page.locator("#q").press("Enter")
    rows = page.locator("#customer-list tbody tr")
    expect(rows).to_have_count(2)
    shoot(page, f"customers-list-1366-{language}")
    _fits(page, 390)
    shoot(page, f"customers-list-390-{language}")
    _fits(page, 1366)

    page.locator(f'tr[data-customer="{kept.id}"] a').click()
    expect(page.locator("#customer-name")).to_have_text("Chen Jing")
    expect(page.locator("#ticket-total")).to_have_text("2")
    page.locator("#merge-link").click()
    page.locator("#dup-q").fill("C-11")
    page.locator("#dup-q").press("Enter")
    page.locator(f'#duplicates tr[data-customer="{dup.id}"] a').click()
    moves = page.locator("#merge-moves")
    expect(moves.locator('tr[data-moved="tickets"] td').nth(1)).to_have_text("1")
    expect(moves.locator('tr[data-moved="surveys"] td').nth(1)).to_have_text("1")
    expect(moves.locator('tr[data-moved="transactions"] td').nth(1)).to_have_text("1")
    shoot(page, f"customer-merge-confirm-1366-{language}")
    page.locator("#merge-confirm-button").click()

    expect(page.locator("#customer-name")).to_have_text("Chen Jing")
    expect(page.locator("#ticket-total")).to_have_text("3")
    subjects = page.locator("#customer-tickets tbody tr td:nth-child(2)").all_inner_texts()
    assert subjects == ["Fridge still leaks (web)", "Fridge leaks (phone)", "Fridge leaks (web)"]
    expect(page.locator('[data-panel="satisfaction"]')).to_contain_text(t["surveys"])
    transactions = page.locator('[data-panel="transactions"] dd').first
    expect(transactions).to_have_text("2")
    expect(page.locator("#merged-records")).to_contain_text("C-11")
    shoot(page, f"customer-profile-1366-{language}")
    _fits(page, 390)
    shoot(page, f"customer-profile-390-{language}")
    # The old record's address leads to the kept profile.
    page.goto(live_server.url + f"/console/customers/{dup.id}")
    assert re.search(rf"/console/customers/{kept.id}$", page.url)
