"""The account owner's page in the console: "My accounts" in the
navigation with the count of unread notices (only for staff who own
customers or have notices), the notices newest first with their customer
and ticket, the customers owned with their health level, marking one or
all read (CSRF-checked; another's notice is a 404). Both languages."""
from __future__ import annotations

import re

import pytest
from webpages import csrf_of

from service.extensions import db

NAV = re.compile(r'<nav id="console-nav"[^>]*>.*?</nav>', re.DOTALL)
TEXTS = {"en": {"link": "My accounts", "owned": "Customers I look after", "none": "You own no customer account."},
         "zh_CN": {"link": "我负责的客户", "owned": "我负责维护的客户", "none": "您还没有负责的客户。"}}


def _link(html: str) -> re.Match | None:
    return re.search(r'data-link="relationship_health_accounts">([^<]+?)\s*(?:<span class="badge"[^>]*>(\d+)</span>)?'
                     r'</a>', NAV.search(html).group(0))


@pytest.fixture
def owned(client, make_staff, file_ticket):
    """A customer with two tickets filed after an owner was named: two notices."""
    _s, supervisor = make_staff("supervisor")
    filed = file_ticket(email="zhou@example.test")
    cid = client.get(f"/api/v1/tickets/{filed['number']}", headers=supervisor).json["customer"]["id"]

    def to(owner) -> int:
        assert client.put(f"/api/v1/customers/{cid}/owner", headers=supervisor,
                          json={"staff_id": owner.id}).status_code == 200
        file_ticket(email="zhou@example.test", subject="Dryer still broken")
        file_ticket(email="zhou@example.test", subject="Nobody called back")
        return cid

    return to


@pytest.mark.parametrize("language", ["en", "zh_CN"])
def test_an_owner_is_told_in_the_console_and_reads_the_notices(client, staff_login, owned, language):
    owner = staff_login("agent", language)
    cid = owned(owner)
    link = _link(client.get("/console/").text)
    assert link and link.group(1) == TEXTS[language]["link"] and link.group(2) == "2"  # two unread notices
    page = client.get("/console/accounts")
    assert page.status_code == 200
    notices = re.findall(r'<li class="event unread" data-notice="(\d+)">', page.text)
    assert len(notices) == 2
    assert "Nobody called back" in page.text and "Dryer still broken" in page.text
    assert page.text.index("Nobody called back") < page.text.index("Dryer still broken")  # newest first
    owned_list = re.search(r'<ul class="plain" id="owned">.*?</ul>', page.text, re.DOTALL).group(0)
    assert f'href="/console/customers/{cid}"' in owned_list and TEXTS[language]["owned"] in page.text
    # One read: the count drops; then all.
    refused = client.post(f"/console/accounts/notices/{notices[0]}/read")
    assert refused.status_code == 400  # no CSRF token
    read = client.post(f"/console/accounts/notices/{notices[0]}/read", data={"csrf_token": csrf_of(page.text)})
    assert read.status_code == 302
    assert _link(client.get("/console/").text).group(2) == "1"
    page = client.get("/console/accounts")
    assert client.post("/console/accounts/notices/read", data={"csrf_token": csrf_of(page.text)}).status_code == 302
    link = _link(client.get("/console/").text)
    assert link and link.group(2) is None  # still there (an owner), no badge
    assert 'class="event unread"' not in client.get("/console/accounts").text


def test_others_get_no_link_and_cannot_read_an_owners_notices(client, staff_login, owned):
    owner = staff_login("agent")
    owned(owner)
    page = client.get("/console/accounts").text
    notice = re.search(r'data-notice="(\d+)"', page).group(1)
    with client.session_transaction() as session:
        session.clear()
    staff_login("agent")  # owns nothing, has no notice
    assert _link(client.get("/console/").text) is None
    mine = client.get("/console/accounts")
    assert mine.status_code == 200 and TEXTS["en"]["none"] in mine.text and "Nobody called back" not in mine.text
    stolen = client.post(f"/console/accounts/notices/{notice}/read", data={"csrf_token": csrf_of(mine.text)})
    assert stolen.status_code == 404
    db.session.rollback()
    with client.session_transaction() as session:
        session.clear()
    assert client.get("/console/accounts").status_code == 302  # visitors go to sign in
