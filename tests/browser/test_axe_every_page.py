"""axe-core (Deque's accessibility engine, bundled by axe-playwright-python)
over every page of the catalogue (tests/pagecatalogue.py) in both languages,
in Chromium: no serious or critical finding (issue 20, item 7).

The customer's pages are checked as a visitor, the console's as an admin
(who opens every staff page; finance's remedies queue is the supervisors'
too). Minor and moderate findings are reported in the failure message of a
serious one but do not fail the run.
"""
from __future__ import annotations

import pytest
from axe_playwright_python.sync_playwright import Axe
from pagecatalogue import EMAILS, PASSWORDS
from sqlalchemy import select

from service.extensions import db
from service.models import Staff

pytestmark = [pytest.mark.browser, pytest.mark.sqlite_only]

LOCALES = {"en": "en-US", "zh": "zh-CN"}
FAILING = ("serious", "critical")


def _findings(page) -> list[str]:
    results = Axe().run(page)
    found = []
    for violation in results.response["violations"]:
        if violation.get("impact") in FAILING:
            targets = [" ".join(map(str, node["target"])) for node in violation["nodes"][:3]]
            found.append(f"{violation['impact']} {violation['id']}: {violation['help']} at {targets}")
    return found


def _sign_in(page, base: str, role: str) -> None:
    page.goto(base + "/console/login")
    page.locator("#email").fill(EMAILS[role])
    page.locator("#password").fill(PASSWORDS[role])
    page.locator("#sign-in").click()
    page.wait_for_url(lambda url: "/console/login" not in url)


@pytest.mark.parametrize("language", ["en", "zh"])
def test_no_serious_accessibility_findings_on_any_page(demo_server, new_context, language):
    server, catalogue = demo_server
    staff = db.session.scalars(select(Staff).where(Staff.email == EMAILS["admin"])).one()
    staff.language = "zh_CN" if language == "zh" else "en"
    db.session.commit()
    found = {}
    visitor = new_context(locale=LOCALES[language], extra_http_headers={"Accept-Language": LOCALES[language]},
                          viewport={"width": 1366, "height": 900}).new_page()
    for name, path in catalogue.pages["customer"]:
        visitor.goto(server.url + path)
        found[f"customer {name}"] = _findings(visitor)
    admin = new_context(locale=LOCALES[language], viewport={"width": 1366, "height": 900}).new_page()
    _sign_in(admin, server.url, "admin")
    for name, path in catalogue.pages["admin"]:
        admin.goto(server.url + path)
        found[f"admin {name}"] = _findings(admin)
    found = {page: items for page, items in found.items() if items}
    assert not found, "\n".join(f"{page}: {item}" for page, items in found.items() for item in items)
