"""Satisfaction classes from rules kept as data, shown on the customer (staff API)
and offered to other plugins through the ``satisfaction_class`` decider."""
from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa

from survey_helpers import panel_link, resolve, token_of
from plugins.satisfaction_survey import tokens
from plugins.satisfaction_survey.classes import DEFAULT_RULES, classify, metrics, satisfaction_class
from plugins.satisfaction_survey.models import Survey
from service.extensions import db
from service.models import Ticket
from service.models.base import utcnow


def _answers(number, *answers, days_ago=1):
    """Answered surveys ``(solved, rating)`` on ticket ``number``, one round each."""
    ticket = db.session.scalar(sa.select(Ticket).where(Ticket.number == number))
    at = utcnow() - timedelta(days=days_ago)
    for i, (solved, rating) in enumerate(answers):
        survey = Survey(ticket_id=ticket.id, customer_id=ticket.customer_id, round=i, status="answered",
                        language="en", created_at=at, resolved_at=at, send_after=at, sent_at=at,
                        answered_at=at + timedelta(minutes=i), solved=solved, rating=rating)
        tokens.seal(survey)
        db.session.add(survey)
    db.session.commit()
    return ticket.customer_id


def _class_of(client, agent, customer_id):
    """The class shown on the customer. The API reads the metrics with the
    customer (``customer_columns``); the class must be the same by the
    decider's own query and on the customer list."""
    response = client.get(f"/api/v1/customers/{customer_id}", headers=agent)
    assert response.status_code == 200
    shown = response.json["satisfaction_class"]
    listed = client.get("/api/v1/customers?limit=100", headers=agent).json["items"]
    assert {c["id"]: c["satisfaction_class"] for c in listed}[customer_id] == shown
    assert satisfaction_class(customer_id) == shown
    db.session.rollback()
    return shown


@pytest.mark.parametrize("answers,expected", [
    ([], "ordinary"),                                   # a ticket, no answers yet
    ([(True, 3)], "ordinary"),
    ([(True, 5), (True, 4)], "loyal"),                  # satisfied twice, never let down
    ([(True, 5), (True, 4), (False, 3)], "complaining"),  # the last answer was bad
    ([(False, 2), (True, 5)], "ordinary"),              # let down once, then satisfied: not loyal
    ([(False, 1), (True, 4), (True, 2)], "lost"),       # let down again and again, the last time too
])
def test_classes_from_answers(client, agent, file_ticket, answers, expected):
    customer_id = _answers(file_ticket()["number"], *answers)
    assert _class_of(client, agent, customer_id) == expected


def test_the_metrics_the_rules_read(client, agent, file_ticket):
    number = file_ticket()["number"]
    file_ticket(kind="suggestion", subject="idea")  # same customer (same e-mail): a ticket, not a complaint
    customer_id = _answers(number, (False, 1), (True, 4), (True, 2))
    # By hand: 3 answers; good = solved and >= 4: 1; bad = not solved or <= 2: 2 (the 1 and the 2);
    # the latest (True, 2) is bad; average (1 + 4 + 2) / 3 = 2.3333.
    assert metrics(customer_id, 365) == {
        "answers": 3, "good_answers": 1, "bad_answers": 2, "last_bad": 1, "avg_rating": 2.3333,
        "complaints": 1, "tickets": 2, "open_recoveries": 0}


def test_a_customer_without_tickets_or_answers_has_no_class(client, agent):
    created = client.post("/api/v1/customers", headers=agent, json={"name": "New", "email": "new@example.test"})
    assert created.status_code == 201 and created.json["satisfaction_class"] is None
    assert [c["satisfaction_class"] for c in client.get("/api/v1/customers", headers=agent).json["items"]] == [None]


def test_complaints_piling_up_make_a_complaining_customer(client, agent, file_ticket):
    for n in range(2):
        file_ticket(subject=f"complaint {n}")
    filed = file_ticket(kind="suggestion", subject="idea")
    customer_id = client.get(f"/api/v1/tickets/{filed['number']}", headers=agent).json["customer"]["id"]
    assert _class_of(client, agent, customer_id) == "ordinary"  # two complaints and a suggestion
    file_ticket(subject="complaint 3")
    assert _class_of(client, agent, customer_id) == "complaining"


def test_answers_outside_the_window_do_not_count(app, client, agent, file_ticket):
    number = file_ticket()["number"]
    customer_id = _answers(number, (False, 1), (False, 1), days_ago=400)
    assert metrics(customer_id, 365)["answers"] == 0
    assert _class_of(client, agent, customer_id) == "ordinary"


def test_an_open_recovery_makes_the_customer_complaining_until_it_ends(client, agent, act, file_ticket, jobs):
    filed = file_ticket()
    resolve(act, agent, filed["number"])
    jobs.drain(periodic=False)
    client.post(f"/api/v1/public/surveys/{token_of(panel_link(client, filed['token']))}",
                json={"solved": False, "rating": 3})
    customer_id = client.get(f"/api/v1/tickets/{filed['number']}", headers=agent).json["customer"]["id"]
    assert _class_of(client, agent, customer_id) == "complaining"
    resolve(act, agent, filed["number"], first=False)
    jobs.drain(periodic=False)
    client.post(f"/api/v1/public/surveys/{token_of(panel_link(client, filed['token']))}",
                json={"solved": True, "rating": 5})
    assert _class_of(client, agent, customer_id) == "ordinary"


RULES = [{"class": "vip_fan", "when": [["avg_rating", ">=", 4.5], ["answers", ">=", 1]]},
         {"class": "unknown", "when": [["answers", "==", 0]]}]


@pytest.mark.parametrize("overrides", [{"SURVEY_DELAY": 0, "SURVEY_CLASS_RULES": RULES}])
def test_rules_are_data(client, agent, file_ticket):
    first = _answers(file_ticket(email="a@example.test")["number"], (True, 5), (True, 4))
    second = file_ticket(email="b@example.test")["number"]
    customer_id = client.get(f"/api/v1/tickets/{second}", headers=agent).json["customer"]["id"]
    assert _class_of(client, agent, first) == "vip_fan"
    assert _class_of(client, agent, customer_id) == "unknown"


def test_classify_takes_the_first_matching_rule():
    base = {"answers": 0, "good_answers": 0, "bad_answers": 0, "last_bad": 0, "avg_rating": 0, "complaints": 0,
            "tickets": 0, "open_recoveries": 0}
    assert classify(base, DEFAULT_RULES) is None
    assert classify({**base, "bad_answers": 2, "last_bad": 1, "open_recoveries": 1}, DEFAULT_RULES) == "lost"
    assert classify({**base, "tickets": 4, "complaints": 3, "good_answers": 2}, DEFAULT_RULES) == "complaining"
