"""A customer who lost the link finds their case again (issue 20, item 6):
by number plus the e-mail or phone on it, the link mailed, never shown, the
same answer whatever was asked; an agent sends a new link to a caller."""
from __future__ import annotations

import re

import pytest

from webpages import csrf_of

ASKED = "we have sent its link to the e-mail address on the case"


def ask(client, number, contact):
    token = csrf_of(client.get("/find").text)
    return client.post("/find", data={"csrf_token": token, "number": number, "contact": contact})


def link_in(mail) -> str:
    return re.search(r"http://[^/\s]+(/track/\S+)", mail.text).group(1)


def test_number_and_e_mail_mail_the_link_which_opens_the_case(client, file_ticket, kefu_mail):
    filed = file_ticket(email="Wang.Fang@Example.test")
    kefu_mail.clear()
    answer = ask(client, filed["number"].lower(), " wang.fang@example.TEST ")  # any case, any spaces
    assert answer.status_code == 200 and ASKED in answer.text
    assert filed["token"] not in answer.text and "/track/" not in answer.text  # never shown on the page
    [mail] = kefu_mail.find(to="Wang.Fang@example.test", notice="link", ticket=filed["number"])
    page = client.get(link_in(mail))
    assert page.status_code == 200 and filed["number"] in page.text


@pytest.mark.parametrize("number, contact", [
    ("KF-999999", "wang@example.test"),  # no such case
    (None, "someone.else@example.test"),  # the case, another address
    (None, "+86 139 0000 0000"),  # the case, another phone
    ("not a number", "wang@example.test"),
])
def test_anything_else_gets_the_same_answer_and_no_mail(client, file_ticket, kefu_mail, number, contact):
    # The answer to a real match, on another customer's case.
    other = file_ticket(name="Zhao Min", email="zhao@example.test")
    reference = ask(client, other["number"], "zhao@example.test").text
    filed = file_ticket(email="wang@example.test", phone="+86 138 0000 0000")
    kefu_mail.clear()
    answer = ask(client, number or filed["number"], contact)
    assert answer.status_code == 200
    # The page says exactly what it says for a real match: it tells nothing.
    strip = lambda html: re.sub(r'name="csrf_token" value="[^"]+"', "", html)  # noqa: E731
    assert strip(answer.text) == strip(reference)
    assert kefu_mail.messages == []


def test_a_phone_only_customer_is_told_to_call_and_gets_no_mail(client, file_ticket, kefu_mail):
    filed = file_ticket(email=None, phone="+86 138 0000 1111")
    answer = ask(client, filed["number"], "86-138-0000-1111")  # the digits match
    assert ASKED in answer.text and "please call us" in answer.text
    assert kefu_mail.messages == []


def test_asking_again_soon_sends_no_second_mail(client, file_ticket, kefu_mail):
    filed = file_ticket(email="again@example.test")
    ask(client, filed["number"], "again@example.test")
    ask(client, filed["number"], "again@example.test")
    assert len(kefu_mail.find(to="again@example.test", notice="link")) == 1


def test_both_fields_are_required_and_named(client):
    answer = ask(client, "", "")
    assert answer.status_code == 422
    assert 'id="number-error"' in answer.text and 'id="contact-error"' in answer.text


def test_the_form_and_mail_in_chinese(client, file_ticket, kefu_mail):
    filed = file_ticket(email="li@example.test", language="zh_CN")
    client.post("/lang/zh_CN", data={"csrf_token": csrf_of(client.get("/").text), "back": "/"})
    assert "找回我的案件" in client.get("/find").text and "找回您的案件" in client.get("/").text
    assert "已把链接发到该案件登记的电子邮箱" in ask(client, filed["number"], "li@example.test").text
    [mail] = kefu_mail.find(to="li@example.test", notice="link")
    assert "您的案件跟进链接" in mail.subject


def test_an_agent_sends_a_new_link_and_the_old_ones_stop(client, agent, file_ticket, kefu_mail):
    filed = file_ticket(email="caller@example.test")
    old_mail_link = link_in(kefu_mail.find(to="caller@example.test", notice="received")[0])
    response = client.post(f"/api/v1/tickets/{filed['number']}/tracking-link", headers=agent)
    assert response.status_code == 201 and response.json["mailed"] is True
    new = response.json["tracking_url"]
    assert client.get(new[new.index("/track/"):]).status_code == 200
    assert client.get(f"/track/{filed['token']}").status_code == 404  # the customer's old link
    assert client.get(old_mail_link).status_code == 404  # and the old mail's
    [mail] = kefu_mail.find(to="caller@example.test", notice="link")
    assert client.get(link_in(mail)).status_code == 200
    history = client.get(f"/api/v1/tickets/{filed['number']}/history", headers=agent).json
    assert [e["details"] for e in history if e["action"] == "link_sent"] == [{"by": "staff", "mailed": True}]


def test_a_phone_only_caller_gets_a_link_to_read_out(client, agent, file_ticket, kefu_mail):
    filed = file_ticket(email=None, phone="+86 138 0000 2222")
    response = client.post(f"/api/v1/tickets/{filed['number']}/tracking-link", headers=agent)
    assert response.status_code == 201 and response.json["mailed"] is False
    assert "/track/" in response.json["tracking_url"] and kefu_mail.messages == []


def test_customers_cannot_send_links_through_the_staff_api(client, file_ticket):
    filed = file_ticket()
    assert client.post(f"/api/v1/tickets/{filed['number']}/tracking-link").status_code == 401


def test_the_console_sends_a_new_link_or_shows_one_to_read_out(client, staff_login, file_ticket, kefu_mail):
    mailed = file_ticket(email="console.caller@example.test")
    phone_only = file_ticket(email=None, phone="+86 138 0000 3333")
    staff_login("agent")
    page = client.get(f"/console/tickets/{mailed['number']}").text
    assert 'id="new-tracking-link"' in page
    answer = client.post(f"/console/tickets/{mailed['number']}/tracking-link",
                         data={"csrf_token": csrf_of(page)}, follow_redirects=True)
    assert "A new link was mailed to the customer." in answer.text
    assert len(kefu_mail.find(to="console.caller@example.test", notice="link")) == 1
    assert client.get(f"/track/{mailed['token']}").status_code == 404  # the old link stopped
    page = client.get(f"/console/tickets/{phone_only['number']}").text
    answer = client.post(f"/console/tickets/{phone_only['number']}/tracking-link",
                         data={"csrf_token": csrf_of(page)}, follow_redirects=True)
    shown = re.search(r"read them this link \(earlier links no longer work\): http://[^/\s]+(/track/[^\s<]+)",
                      answer.text)
    assert shown and client.get(shown.group(1)).status_code == 200


def test_the_console_button_needs_the_csrf_token_and_an_agent(client, staff_login, file_ticket):
    filed = file_ticket()
    assert client.post(f"/console/tickets/{filed['number']}/tracking-link").status_code == 400  # no CSRF token
    staff_login("finance")
    page = client.get(f"/console/tickets/{filed['number']}").text
    assert 'id="new-tracking-link"' not in page
    answer = client.post(f"/console/tickets/{filed['number']}/tracking-link", data={"csrf_token": csrf_of(page)})
    assert answer.status_code == 403
    assert client.get(f"/track/{filed['token']}").status_code == 200  # nothing was changed
