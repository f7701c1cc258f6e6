"""One reminder for an unanswered survey after SURVEY_REMINDER_DAYS, sent by the
periodic job through the real in-process runner (RQ over fakeredis), once."""
from __future__ import annotations

import time
from datetime import timedelta

import pytest
import sqlalchemy as sa

from survey_helpers import mails, panel_link, resolve, surveys_of, token_of
from plugins.satisfaction_survey.models import Survey
from plugins.satisfaction_survey.surveys import remind
from service.extensions import db
from service.models.base import utcnow


def _age(days):
    """Move every delivered survey's delivery ``days`` back."""
    db.session.execute(sa.update(Survey).where(Survey.sent_at.is_not(None))
                       .values(sent_at=utcnow() - timedelta(days=days)))
    db.session.commit()


def test_one_reminder_exactly_once(app, client, agent, act, file_ticket, jobs):
    filed = file_ticket()
    resolve(act, agent, filed["number"])
    jobs.drain(periodic=False)
    token = token_of(panel_link(client, filed["token"]))
    jobs.drain()  # the periodic job runs: too early for a reminder
    assert mails(app, "A reminder") == []
    _age(3)
    jobs.drain(now=time.time() + 3600)  # the next period of the hourly job
    [reminder] = mails(app, "A reminder")
    assert f"/survey/{token}" in reminder.get_body(("plain",)).get_content()
    assert surveys_of(filed["number"])[0]["reminded_at"] is not None
    # Later periods, and a direct second run, send nothing more.
    for hours in (1, 2, 3, 30):
        jobs.drain(now=time.time() + hours * 3600)
    assert remind() == []
    assert len(mails(app, "A reminder")) == 1
    # The reminder's link still answers the survey.
    assert client.post(f"/api/v1/public/surveys/{token}", json={"solved": True, "rating": 4}).status_code == 200


def test_no_reminder_for_answered_withdrawn_or_expired_surveys(app, client, agent, act, file_ticket, jobs):
    numbers = []
    for subject in ("answered", "withdrawn", "expired"):
        filed = file_ticket(subject=subject)
        resolve(act, agent, filed["number"])
        numbers.append(filed)
    jobs.drain(periodic=False)
    answered, withdrawn, expired = numbers
    assert client.post(f"/api/v1/public/surveys/{token_of(panel_link(client, answered['token']))}",
                       json={"solved": True, "rating": 3}).status_code == 200
    act(agent, withdrawn["number"], "reopen", reason="not done")
    db.session.execute(sa.update(Survey).where(Survey.ticket_id == int(expired["number"][3:]))
                       .values(expires_at=utcnow() - timedelta(minutes=1)))
    db.session.commit()
    _age(5)
    assert remind() == []
    jobs.drain()
    assert mails(app, "A reminder") == []


def test_a_batch_reminds_each_survey_once_and_marks_one_sent_by_a_run_that_died(app, agent, act, file_ticket,
                                                                               jobs):
    from service.jobs.effects import effect_once

    filed = [file_ticket(subject=f"batch {n}", email=f"batch{n}@example.test") for n in range(3)]
    for ticket in filed:
        resolve(act, agent, ticket["number"])
    jobs.drain(periodic=False)
    _age(3)
    survey_ids = sorted(db.session.scalars(sa.select(Survey.id)))
    # A run died after mailing the first survey's reminder, before marking it.
    with effect_once(f"mail:survey:{survey_ids[0]}:survey_reminder") as go:
        assert go
    assert remind() == survey_ids
    reminders = mails(app, "A reminder")
    assert sorted(m["To"].addresses[0].addr_spec for m in reminders) == ["batch1@example.test", "batch2@example.test"]
    db.session.expire_all()
    assert all(s.reminded_at is not None for s in db.session.scalars(sa.select(Survey)))
    assert remind() == []


@pytest.mark.parametrize("overrides", [{"SURVEY_DELAY": 0, "SURVEY_REMINDER_DAYS": 0}])
def test_reminders_can_be_switched_off(app, client, agent, act, file_ticket, jobs):
    filed = file_ticket()
    resolve(act, agent, filed["number"])
    jobs.drain(periodic=False)
    _age(30)
    assert remind() == []


def test_chinese_customers_get_chinese_survey_mail(app, client, agent, act, file_ticket, jobs):
    filed = file_ticket(language="zh_CN", name="王芳")
    resolve(act, agent, filed["number"])
    jobs.drain(periodic=False)
    [invite] = mails(app, "请评价我们的服务")
    text = invite.get_body(("plain",)).get_content()
    assert text.startswith("王芳，您好：") and "填写问卷：http://127.0.0.1:5000/survey/" in text
    _age(3)
    jobs.drain()
    [reminder] = mails(app, "提醒")
    assert "这是我们唯一的一次提醒" in reminder.get_body(("plain",)).get_content()
    shown = client.get(f"/api/v1/public/tickets/{filed['token']}").json
    [panel] = [p for p in shown["panels"] if p["key"] == "satisfaction_survey"]
    assert (panel["title"], panel["url_label"]) == ("请评价我们的服务", "填写问卷")
    questions = client.get(f"/api/v1/public/surveys/{token_of(panel['url'])}").json["questions"]
    assert questions[0]["label"] == "您的问题解决了吗？"


def test_a_customer_without_e_mail_still_finds_the_survey_on_the_tracking_page(app, client, agent, act,
                                                                                  file_ticket, jobs):
    filed = file_ticket(email=None, phone="+86 138 0000 0000")
    resolve(act, agent, filed["number"])
    jobs.drain(periodic=False)
    assert panel_link(client, filed["token"]) is not None
    assert mails(app, "How did we do?") == []
