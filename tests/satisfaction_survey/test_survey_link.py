"""The survey link: scheduled per resolution after SURVEY_DELAY, shown on the
tracking view, GET records nothing, single use, expiry, tampering, withdrawal,
and bad answers refused with 422 naming the field - each leaving nothing written."""
from __future__ import annotations

import re
from datetime import timedelta

import pytest
import sqlalchemy as sa

from survey_helpers import mails, panel_link, resolve, stored_status, surveys_of, token_of
from plugins.satisfaction_survey.models import Survey
from plugins.satisfaction_survey.surveys import schedule
from service.extensions import db
from service.hooks.manager import PluginStartupError
from service.models import OutboxJob, Ticket, TicketEvent
from service.models.base import utcnow


def _events(number, action):
    with db.engine.connect() as conn:
        return conn.execute(sa.select(sa.func.count(TicketEvent.id)).join(Ticket, Ticket.id == TicketEvent.ticket_id)
                            .where(Ticket.number == number, TicketEvent.action == action)).scalar_one()


@pytest.fixture
def delivered(client, agent, act, file_ticket, jobs):
    """A resolved ticket whose survey was delivered: (filed JSON, survey token)."""
    filed = file_ticket()
    resolve(act, agent, filed["number"])
    jobs.drain(periodic=False)
    url = panel_link(client, filed["token"])
    assert url is not None
    return filed, token_of(url)


def _unchanged(number):
    [survey] = surveys_of(number)
    assert survey["status"] == "sent" and survey["answered_at"] is None and survey["rating"] is None
    assert stored_status(number) == "resolved"
    assert _events(number, "survey_answered") == 0


@pytest.mark.parametrize("overrides", [{}])
def test_survey_waits_survey_delay_before_it_is_delivered(app, client, agent, act, file_ticket, jobs):
    filed = file_ticket()
    before = utcnow()
    resolve(act, agent, filed["number"])
    jobs.drain(periodic=False)
    [survey] = surveys_of(filed["number"])
    assert survey["status"] == "scheduled" and survey["sent_at"] is None
    row = db.session.scalar(sa.select(OutboxJob).where(OutboxJob.name == "satisfaction_survey.deliver"))
    assert row.kwargs == {"survey_id": survey["id"]} and row.done_at is None
    assert before + timedelta(seconds=3599) <= row.run_at <= utcnow() + timedelta(seconds=3601)
    assert panel_link(client, filed["token"]) is None  # not on the tracking page before delivery
    assert mails(app, "How did we do?") == []


def test_delivery_mails_the_link_and_shows_it_on_the_tracking_page(app, client, delivered):
    filed, token = delivered
    [mail] = mails(app, "How did we do?")
    assert mail["To"] == "Wang Fang <wang@example.test>" and f"[{filed['number']}]" in mail["Subject"]
    text = mail.get_body(("plain",)).get_content()
    assert f"/survey/{token}" in text
    html = mail.get_body(("html",)).get_content()
    assert f"/survey/{token}" in html and "Answer the survey" in html
    [survey] = surveys_of(filed["number"])
    assert survey["status"] == "sent"
    assert survey["expires_at"] - survey["sent_at"] == timedelta(days=28)


def test_opening_the_link_records_nothing(client, delivered):
    """The mail-scanner case: GET on the API and the page, several times."""
    filed, token = delivered
    for _ in range(3):
        shown = client.get(f"/api/v1/public/surveys/{token}")
        assert shown.status_code == 200
        assert shown.json["number"] == filed["number"]
        assert [q["key"] for q in shown.json["questions"]] == ["solved", "rating", "reasons", "comment"]
        assert client.get(f"/survey/{token}").status_code == 200
        assert client.head(f"/survey/{token}").status_code == 200
    _unchanged(filed["number"])


def test_a_link_works_once(client, delivered):
    filed, token = delivered
    first = client.post(f"/api/v1/public/surveys/{token}", json={"solved": True, "rating": 3, "comment": "ok"})
    assert first.status_code == 200 and first.json["outcome"] == "none"
    again = client.post(f"/api/v1/public/surveys/{token}", json={"solved": False, "rating": 1})
    assert again.status_code == 409
    assert again.json["error"]["code"] == "survey_answered"
    assert again.json["error"]["fields"] == {"survey_token": ["already used"]}
    assert client.get(f"/api/v1/public/surveys/{token}").status_code == 409
    [survey] = surveys_of(filed["number"])
    assert (survey["solved"], survey["rating"], survey["comment"]) == (True, 3, "ok")  # the first answer stays
    assert stored_status(filed["number"]) == "resolved"
    assert _events(filed["number"], "survey_answered") == 1


def test_an_expired_link_is_refused_and_records_nothing(client, delivered):
    filed, token = delivered
    db.session.execute(sa.update(Survey).values(expires_at=utcnow() - timedelta(seconds=1)))
    db.session.commit()
    for response in (client.get(f"/api/v1/public/surveys/{token}"),
                     client.post(f"/api/v1/public/surveys/{token}", json={"solved": True, "rating": 5})):
        assert response.status_code == 410
        assert response.json["error"]["code"] == "survey_closed"
        assert response.json["error"]["fields"] == {"survey_token": ["expired"]}
    page = client.get(f"/survey/{token}")
    assert page.status_code == 410 and b"This survey link has expired." in page.data
    assert panel_link(client, filed["token"]) is None
    _unchanged(filed["number"])


def test_the_link_works_until_its_last_day(client, delivered):
    filed, token = delivered
    db.session.execute(sa.update(Survey).values(expires_at=utcnow() + timedelta(minutes=1)))
    db.session.commit()
    assert client.get(f"/api/v1/public/surveys/{token}").status_code == 200


def _flip_signature(token: str) -> str:
    # Change the signature's first character: every bit of it counts (the
    # last one may carry only base64 padding bits, so changing it can leave
    # the signature valid).
    body, sig = token.rsplit(".", 1)
    return f"{body}.{'A' if sig[0] != 'A' else 'B'}{sig[1:]}"


@pytest.mark.parametrize("change", ["signature", "payload", "other_key", "garbage"])
def test_a_tampered_link_is_refused_and_records_nothing(app, client, delivered, change):
    from itsdangerous import URLSafeSerializer

    filed, token = delivered
    [survey] = surveys_of(filed["number"])
    forged = {
        "signature": _flip_signature(token),
        "payload": "x" + token,
        # Properly signed (as if the key leaked), but not this survey's key.
        "other_key": URLSafeSerializer(app.config["SECRET_KEY"], salt="kefu.satisfaction_survey")
        .dumps([survey["id"], "0" * 32]),
        "garbage": "not-a-token",
    }[change]
    for response in (client.get(f"/api/v1/public/surveys/{forged}"),
                     client.post(f"/api/v1/public/surveys/{forged}", json={"solved": True, "rating": 5})):
        assert response.status_code == 404
        assert response.json["error"]["message"] == "no survey for this link"
    page = client.get(f"/survey/{forged}")
    assert page.status_code == 404 and b"This link is not valid." in page.data
    _unchanged(filed["number"])


def test_a_reopen_withdraws_the_unanswered_survey(client, agent, act, delivered):
    filed, token = delivered
    act(agent, filed["number"], "reopen", reason="The customer called: still broken")
    response = client.post(f"/api/v1/public/surveys/{token}", json={"solved": True, "rating": 5})
    assert response.status_code == 410 and response.json["error"]["fields"] == {"survey_token": ["withdrawn"]}
    [survey] = surveys_of(filed["number"])
    assert survey["status"] == "withdrawn" and survey["rating"] is None
    assert panel_link(client, filed["token"]) is None


def test_one_survey_per_resolution_and_a_new_one_after_a_reopen(client, agent, act, delivered, jobs):
    filed, first = delivered
    ticket = db.session.scalar(sa.select(Ticket).where(Ticket.number == filed["number"]))
    assert schedule(ticket) is None  # the same resolution asked twice: still one survey
    act(agent, filed["number"], "reopen", reason="still broken")
    resolve(act, agent, filed["number"], first=False)
    jobs.drain(periodic=False)
    second = token_of(panel_link(client, filed["token"]))
    assert second != first
    assert [(s["round"], s["status"]) for s in surveys_of(filed["number"])] == [(0, "withdrawn"), (1, "sent")]


BAD = [
    ({"rating": 5}, {"solved": ["Missing data for required field."]}),
    ({"solved": True}, {"rating": ["Missing data for required field."]}),
    ({"solved": True, "rating": 6}, {"rating": ["Must be greater than or equal to 1 and less than or equal to 5."]}),
    ({"solved": True, "rating": 0}, {"rating": ["Must be greater than or equal to 1 and less than or equal to 5."]}),
    ({"solved": True, "rating": "5"}, {"rating": ["Not a valid integer."]}),
    ({"solved": "yes", "rating": 5}, {"solved": ["Not a valid boolean."]}),
    ({"solved": True, "rating": 5, "effort": 3}, {"effort": ["not asked in this survey"]}),
    ({"solved": True, "rating": 5, "nps": 9}, {"nps": ["not asked in this survey"]}),
    ({"solved": True, "rating": 4, "reasons": ["slow"]}, {"reasons": ["only asked when the rating is 2 or less"]}),
    ({"solved": True, "rating": 1, "reasons": ["nonsense"]}, {"reasons.0": ["Must be one of: slow, unreachable, "
                                                                           "not_explained, unfriendly, extra_cost, "
                                                                           "product, other."]}),
    ({"solved": True, "rating": 5, "comment": "x" * 2001}, {"comment": ["Longer than maximum length 2000."]}),
    ({"solved": True, "rating": 5, "extra": {"speed": 3}}, {"extra.speed": ["not a question of this survey"]}),
    ({"solved": True, "rating": 5, "mood": "happy"}, {"mood": ["Unknown field."]}),
]


@pytest.mark.parametrize("body,fields", BAD)
def test_bad_answers_are_422_naming_the_field_and_record_nothing(client, delivered, body, fields):
    filed, token = delivered
    response = client.post(f"/api/v1/public/surveys/{token}", json=body)
    assert response.status_code == 422, response.json
    assert response.json["error"]["fields"] == fields
    _unchanged(filed["number"])
    assert client.get(f"/api/v1/public/surveys/{token}").status_code == 200  # still open


EXTRA = [{"key": "delivery", "type": "scale", "min": 1, "max": 3, "required": True,
          "labels": {"en": "How was the delivery?", "zh_CN": "送货怎么样？"}}]


@pytest.mark.parametrize("overrides", [{"SURVEY_DELAY": 0, "SURVEY_ASK_EFFORT": True, "SURVEY_ASK_NPS": True,
                                        "SURVEY_EXTRA_QUESTIONS": EXTRA}])
def test_optional_and_extra_questions_when_switched_on(client, delivered):
    filed, token = delivered
    questions = client.get(f"/api/v1/public/surveys/{token}").json["questions"]
    assert [q["key"] for q in questions] == ["solved", "rating", "effort", "nps", "reasons", "comment", "delivery"]
    nps = questions[3]
    assert (nps["min"], nps["max"], nps["min_label"], nps["max_label"]) == (0, 10, "Not at all likely",
                                                                             "Extremely likely")
    assert questions[6] == {"key": "delivery", "type": "scale", "label": "How was the delivery?", "required": True,
                            "extra": True, "min": 1, "max": 3}
    for body, fields in [
        ({"solved": True, "rating": 5, "effort": 8, "nps": 9, "extra": {"delivery": 2}},
         {"effort": ["Must be greater than or equal to 1 and less than or equal to 7."]}),
        ({"solved": True, "rating": 5, "effort": 2, "nps": 11, "extra": {"delivery": 2}},
         {"nps": ["Must be greater than or equal to 0 and less than or equal to 10."]}),
        ({"solved": True, "rating": 5, "extra": {"delivery": 4}}, {"extra.delivery": ["must be a whole number from 1 to 3"]}),
        ({"solved": True, "rating": 5}, {"extra.delivery": ["required"]}),
    ]:
        response = client.post(f"/api/v1/public/surveys/{token}", json=body)
        assert response.status_code == 422 and response.json["error"]["fields"] == fields
    _unchanged(filed["number"])
    ok = client.post(f"/api/v1/public/surveys/{token}",
                     json={"solved": True, "rating": 5, "effort": 6, "nps": 0, "extra": {"delivery": 3}})
    assert ok.status_code == 200
    [survey] = surveys_of(filed["number"])
    assert (survey["effort"], survey["nps"], survey["extra"]) == (6, 0, {"delivery": 3})


@pytest.mark.parametrize("key,value,message", [
    ("SURVEY_DELAY", -1, "SURVEY_DELAY must be a whole number"),
    ("SURVEY_TOKEN_DAYS", "28", "SURVEY_TOKEN_DAYS must be a whole number"),
    ("SURVEY_ASK_NPS", "yes", "SURVEY_ASK_NPS must be true or false"),
    ("SURVEY_EXTRA_QUESTIONS", [{"key": "rating", "type": "text", "labels": {"en": "a", "zh_CN": "b"}}],
     "SURVEY_EXTRA_QUESTIONS[0]: key 'rating' is used twice"),
    ("SURVEY_EXTRA_QUESTIONS", [{"key": "x", "type": "text", "labels": {"en": "a"}}],
     "SURVEY_EXTRA_QUESTIONS[0]: labels must give a text for each of en, zh_CN"),
    ("SURVEY_CLASS_RULES", [{"class": "loyal", "when": [["happiness", ">=", 1]]}], "SURVEY_CLASS_RULES[0]"),
])
def test_a_bad_setting_stops_kefu_at_start_naming_the_key(app_config, build_app, key, value, message):
    # Checked by the plugin's settings schema (register_settings) when kefu starts.
    with pytest.raises(PluginStartupError, match=re.escape(
            "plugin satisfaction_survey failed in register_settings: SettingsError: settings of plugin "
            f"satisfaction_survey: {key}: {message}")):
        with build_app({**app_config, key: value}):
            pass
