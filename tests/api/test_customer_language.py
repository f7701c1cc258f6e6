"""A customer is answered in the language they used (issue 20, item 6): the
API's ``language`` field, else the request's Accept-Language, else the
script of what they wrote, else ``DEFAULT_LANGUAGE``; their mail follows."""
from __future__ import annotations

import pytest

from service.extensions import db
from service.models import Customer, Ticket
from service.models.ticket import parse_number

CHINESE = {"name": "客户甲", "subject": "空调不制冷", "description": "新买的空调开了一个小时还是不制冷，请尽快派人来看看。"}
ENGLISH = {"name": "Jane Roe", "subject": "Air conditioner does not cool",
           "description": "The new unit has run for an hour and the room is still warm."}


def file(client, body, headers=None, **contact):
    response = client.post("/api/v1/public/tickets", json={**body, **contact}, headers=headers or {})
    assert response.status_code == 201, response.json
    return response.json["number"]


def customer_language(email):
    return db.session.query(Customer.language).filter(Customer.email == email).scalar()


def test_a_complaint_written_in_chinese_is_answered_in_chinese(client, kefu_mail):
    # No language field, no Accept-Language: the script decides.
    number = file(client, CHINESE, email="jia@example.test")
    assert customer_language("jia@example.test") == "zh_CN"
    [receipt] = kefu_mail.find(to="jia@example.test", notice="received", ticket=number)
    assert f"[{number}] 我们已收到您的投诉：空调不制冷" == receipt.subject and "客户甲，您好" in receipt.text


def test_a_complaint_written_in_english_is_answered_in_english(client, kefu_mail):
    number = file(client, ENGLISH, email="jane@example.test")
    assert customer_language("jane@example.test") == "en"
    [receipt] = kefu_mail.find(to="jane@example.test", notice="received", ticket=number)
    assert receipt.subject == f"[{number}] We have received your complaint: Air conditioner does not cool"


@pytest.mark.parametrize("headers, field, expected", [
    ({"Accept-Language": "en-GB,en;q=0.9"}, None, "en"),  # the header before the script
    ({"Accept-Language": "zh-CN"}, "en", "en"),  # the field before the header
    ({"Accept-Language": "fr-FR"}, None, "zh_CN"),  # a header naming none of ours says nothing
])
def test_the_field_then_the_header_then_the_script(client, headers, field, expected):
    contact = {"email": "order@example.test"} | ({"language": field} if field else {})
    file(client, CHINESE, headers, **contact)
    assert customer_language("order@example.test") == expected


def test_a_chinese_accept_language_answers_an_english_text_in_chinese(client):
    file(client, ENGLISH, {"Accept-Language": "zh-TW,zh;q=0.9"}, phone="+86 138 0000 0001")
    assert db.session.query(Customer.language).filter(Customer.phone == "+86 138 0000 0001").scalar() == "zh_CN"


@pytest.mark.kefu_settings(DEFAULT_LANGUAGE="zh_CN")
def test_nothing_to_tell_by_takes_the_default(client):
    file(client, {"name": "12345", "subject": "#4471", "description": "+86 138 0000 0002 ???"},
         email="digits@example.test")
    assert customer_language("digits@example.test") == "zh_CN"


def test_a_language_the_api_does_not_speak_is_refused_by_name(client):
    response = client.post("/api/v1/public/tickets", json={**ENGLISH, "email": "x@example.test", "language": "fr"})
    assert response.status_code == 422, response.json
    assert "language" in str(response.json["error"]["fields"]), response.json


def test_every_contact_and_field_error_comes_in_one_answer(client):
    response = client.post("/api/v1/public/tickets", json={"name": "Wang", "description": "Broken"})
    assert response.status_code == 422
    fields = str(response.json["error"]["fields"])
    assert "subject" in fields and "e-mail address or a phone number" in fields, response.json


def test_filing_answers_when_to_expect_a_reply(client):
    response = client.post("/api/v1/public/tickets", json={**ENGLISH, "email": "when@example.test"})
    assert response.status_code == 201
    ticket = db.session.query(Ticket).filter(Ticket.id == parse_number(response.json["number"])).one()
    assert ticket.first_response_due is not None
    assert response.json["reply_by"] == ticket.first_response_due.isoformat()  # the SLA's time
