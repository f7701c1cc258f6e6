"""A complaint sent again after its answer was lost (a 503 during a database
restart, a dropped connection, a double click) is filed once."""
from __future__ import annotations

from sqlalchemy import func, select

from service.extensions import db
from service.models import Ticket

from webpages import csrf_of

BODY = {"name": "Wang Fang", "email": "wang@example.test", "kind": "complaint",
        "subject": "Washing machine not delivered", "description": "Ordered two weeks ago."}


def _tickets() -> int:
    db.session.rollback()
    return db.session.scalar(select(func.count()).select_from(Ticket))


def test_the_same_idempotency_key_files_one_ticket_and_answers_it_again(client):
    key = {"Idempotency-Key": "3f1c2a9e-5b7d-4c1e-9a2b-7e6f5d4c3b2a"}
    first = client.post("/api/v1/public/tickets", json=BODY, headers=key)
    again = client.post("/api/v1/public/tickets", json=BODY, headers=key)
    assert first.status_code == again.status_code == 201
    assert again.json["number"] == first.json["number"]
    assert _tickets() == 1
    # The second answer's tracking link works (the first one's token is not kept).
    assert client.get(f"/api/v1/public/tickets/{again.json['token']}").status_code == 200


def test_a_key_reused_by_someone_else_is_a_409_and_files_nothing(client):
    key = {"Idempotency-Key": "shared-key-0001"}
    assert client.post("/api/v1/public/tickets", json=BODY, headers=key).status_code == 201
    other = client.post("/api/v1/public/tickets", json={**BODY, "email": "li@example.test"}, headers=key)
    assert other.status_code == 409
    assert other.json["error"]["code"] == "request_key_reused" and "request_key" in other.json["error"]["fields"]
    assert _tickets() == 1


def test_a_malformed_key_is_a_422_naming_the_header(client):
    response = client.post("/api/v1/public/tickets", json=BODY, headers={"Idempotency-Key": "short"})
    assert response.status_code == 422
    assert "Idempotency-Key" in response.json["error"]["fields"]
    assert _tickets() == 0


def test_without_a_key_each_request_files_a_ticket(client):
    for _ in range(2):
        assert client.post("/api/v1/public/tickets", json=BODY).status_code == 201
    assert _tickets() == 2


def test_the_public_form_sent_twice_files_once(client):
    page = client.get("/").text
    import re
    request_key = re.search(r'name="request_key" value="([^"]+)"', page).group(1)
    form = {"csrf_token": csrf_of(page), "request_key": request_key, "name": "Wang Fang",
            "email": "wang@example.test", "kind": "complaint", "category": "other",
            "subject": "Washing machine not delivered", "description": "Ordered two weeks ago."}
    assert client.post("/", data=form).status_code == 302
    assert client.post("/", data=form).status_code == 302  # the resend after a lost answer
    assert _tickets() == 1
    # Another rendering of the form is another complaint.
    fresh = client.get("/").text
    assert re.search(r'name="request_key" value="([^"]+)"', fresh).group(1) != request_key
