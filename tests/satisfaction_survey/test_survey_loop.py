"""Closing the loop: a bad answer reopens (or opens a follow-up), tells the
department's supervisor and marks the ticket for recovery; a good one closes.
The full loop of the issue: resolve -> survey -> "not solved" -> reopened ->
resolved again -> new survey -> 5 -> closed."""
from __future__ import annotations

from datetime import datetime, timedelta

import pytest
import sqlalchemy as sa
from survey_helpers import (
    give_supervisor,
    mails,
    panel_link,
    resolve,
    stored_status,
    surveys_of,
    token_of,
)

from plugins.satisfaction_survey.hookspecs import SurveyAnswer
from service import hookimpl
from service.extensions import db
from service.hooks.types import problems
from service.models import Ticket
from service.models.base import utcnow


class Listener:
    """Records ``survey_answered`` with what was committed when it fired, and
    the ``survey.answered`` events (what webhooks deliver)."""

    def __init__(self):
        self.calls = []
        self.events = []

    @hookimpl
    def event_published(self, event, ticket, data):
        if event == "survey.answered":
            self.events.append((ticket.number, stored_status(ticket.number), data))

    @hookimpl
    def survey_answered(self, ticket, answer, actor):
        self.calls.append({"number": ticket.number, "status": ticket.status, "stored": stored_status(ticket.number),
                           "answer": answer, "actor": (actor.type, actor.name)})


@pytest.fixture
def listener(kefu_plugins):
    plugin = Listener()
    kefu_plugins.register(plugin, name="survey_listener")
    return plugin


def _history(client, headers, number):
    return [(e["action"], e["actor"]["type"], e["details"])
            for e in client.get(f"/api/v1/tickets/{number}/history", headers=headers).json]


def _panel(client, headers, number):
    """The survey panel on the agent's view of the ticket: (title, rows)."""
    [panel] = [p for p in client.get(f"/api/v1/tickets/{number}?panels=true", headers=headers).json["panels"]
               if p["key"] == "satisfaction_survey"]
    assert panel["failed"] is False
    return panel["title"], panel["rows"]


def _answer(client, url, **body):
    response = client.post(f"/api/v1/public/surveys/{token_of(url)}", json=body)
    assert response.status_code == 200, response.json
    return response.json


def test_the_full_loop(app, kefu_plugins, client, make_staff, act, file_ticket, jobs, listener):
    supervisor, sup_headers = give_supervisor(make_staff)
    agent_staff, agent = make_staff("agent")
    filed = file_ticket()
    number = filed["number"]

    # resolve -> survey
    resolve(act, agent, number)
    jobs.drain(periodic=False)
    first = panel_link(client, filed["token"])
    assert first is not None

    # "not solved" -> reopened, supervisor told, marked for recovery
    answered = _answer(client, first, solved=False, rating=2, reasons=["slow", "not_explained"],
                       comment="The machine still leaks.")
    assert answered == {"number": number, "status": "in_progress", "outcome": "reopened", "followup": None}
    assert stored_status(number) == "in_progress"
    history = _history(client, agent, number)
    assert ("survey_answered", "customer", {"survey": 1, "solved": False, "rating": 2, "outcome": "reopened"}) in history
    assert ("recovery_marked", "plugin", {"survey": 1, "reason": "not_solved"}) in history
    [reopen] = [h for h in history if h[0] == "reopen"]
    assert reopen[1] == "customer" and reopen[2]["reason"] == (
        "satisfaction survey: not solved, rating 2/5; reasons: It took too long, The result was not explained; "
        "comment: The machine still leaks.")
    jobs.drain(periodic=False)
    # The supervisor and who answers for the (unassigned) ticket - its
    # department's agents - are told, each once (service.usecases.notifications).
    alerts = mails(app, "Bad survey answer")
    recipients = [a["To"] for a in alerts]
    assert len(recipients) == len(set(recipients)) and f"{agent_staff.name} <{agent_staff.email}>" in recipients
    [alert] = [a for a in alerts if a["To"] == f"{supervisor.name} <{supervisor.email}>"]
    assert "still leaks" in alert.get_body(("plain",)).get_content()
    recovery = client.get("/api/v1/surveys/recovery", headers=agent).json
    assert [(r["number"], r["reason"], r["rating"], r["recovered_at"]) for r in recovery] == [
        (number, "not_solved", 2, None)]
    # The agent's panel: typed rows in the page's language, the survey's answer then the recovery mark.
    title, rows = _panel(client, agent, number)
    assert title == "Satisfaction survey"
    assert [(r["label"], r["value"], r["kind"], r["items"]) for r in rows if r["kind"] != "time"] == [
        ("Survey of resolution 1", "Answered", "badge", []), ("Solved", "No", "text", []),
        ("Rating", "2/5", "text", []),
        ("What went wrong", "It took too long, The result was not explained", "list",
         ["It took too long", "The result was not explained"]),
        ("Comment", "The machine still leaks.", "text", []), ("Outcome", "Reopened", "badge", []),
        ("Recovery", "Open", "badge", []), ("Why", "Not solved", "text", [])]
    assert [r["label"] for r in rows if r["kind"] == "time"] == ["Sent", "Answered", "Marked"]
    assert all(datetime.fromisoformat(r["value"]).tzinfo is not None for r in rows if r["kind"] == "time")
    title, rows = _panel(client, {**agent, "Accept-Language": "zh-CN"}, number)
    assert title == "满意度调查" and ("结果", "已重开") in [(r["label"], r["value"]) for r in rows]
    assert panel_link(client, filed["token"]) is None  # answered: no survey on the tracking page

    # resolved again -> a new survey -> 5 -> closed
    resolve(act, agent, number, first=False)
    jobs.drain(periodic=False)
    second = panel_link(client, filed["token"])
    assert second is not None and token_of(second) != token_of(first)
    answered = _answer(client, second, solved=True, rating=5, comment="Fixed now, thanks")
    assert answered == {"number": number, "status": "closed", "outcome": "closed", "followup": None}
    assert stored_status(number) == "closed"
    assert [(s["round"], s["status"], s["solved"], s["rating"], s["outcome"]) for s in surveys_of(number)] == [
        (0, "answered", False, 2, "reopened"), (1, "answered", True, 5, "closed")]
    # The good answer ends the recovery.
    assert client.get("/api/v1/surveys/recovery", headers=agent).json == []
    [ended] = client.get("/api/v1/surveys/recovery?open=false", headers=agent).json
    assert ended["recovered_at"] is not None and ended["recovered_by"] == f"good survey answer on {number}"
    rows = _panel(client, agent, number)[1]
    assert [(r["label"], r["value"]) for r in rows if r["kind"] != "time"][-7:] == [
        ("Survey of resolution 2", "Answered"), ("Solved", "Yes"), ("Rating", "5/5"),
        ("Comment", "Fixed now, thanks"), ("Outcome", "Closed"), ("Recovery", "Ended"), ("Why", "Not solved")]
    assert [r["label"] for r in rows if r["kind"] == "time"] == ["Sent", "Answered", "Sent", "Answered", "Marked",
                                                                 "Ended"]
    # The old link stays used.
    assert client.post(f"/api/v1/public/surveys/{token_of(first)}", json={"solved": True, "rating": 5}).status_code == 409

    # survey_answered: once per answer, after the commit, with a plain dict.
    assert [(c["number"], c["status"], c["stored"], c["actor"][0]) for c in listener.calls] == [
        (number, "in_progress", "in_progress", "customer"), (number, "closed", "closed", "customer")]
    first_answer = listener.calls[0]["answer"]
    assert {k: first_answer[k] for k in ("survey_id", "round", "solved", "rating", "effort", "nps", "reasons",
                                         "comment", "extra", "outcome", "followup")} == {
        "survey_id": 1, "round": 0, "solved": False, "rating": 2, "effort": None, "nps": None,
        "reasons": ["slow", "not_explained"], "comment": "The machine still leaks.", "extra": {},
        "outcome": "reopened", "followup": None}
    assert listener.calls[0]["actor"] == ("customer", "Wang Fang")
    # The plugin's own hook is a notification it declares itself, and its answer is the declared shape.
    assert kefu_plugins.manager.kind("survey_answered") == "notification"
    assert [problems(call["answer"], SurveyAnswer) for call in listener.calls] == [[], []]
    # survey.answered: published after the same commit, the answer without its free text.
    assert listener.events == [
        (number, "in_progress", {"survey_id": 1, "round": 0, "solved": False, "rating": 2, "effort": None,
                                 "nps": None, "reasons": ["slow", "not_explained"], "outcome": "reopened",
                                 "followup": None}),
        (number, "closed", {"survey_id": 2, "round": 1, "solved": True, "rating": 5, "effort": None, "nps": None,
                            "reasons": [], "outcome": "closed", "followup": None})]


def test_a_low_rating_reopens_even_when_solved(client, make_staff, act, file_ticket, jobs):
    give_supervisor(make_staff)
    agent = make_staff("agent")[1]
    filed = file_ticket()
    resolve(act, agent, filed["number"])
    jobs.drain(periodic=False)
    answered = _answer(client, panel_link(client, filed["token"]), solved=True, rating=1)
    assert answered["outcome"] == "reopened" and stored_status(filed["number"]) == "in_progress"
    [row] = client.get("/api/v1/surveys/recovery", headers=agent).json
    assert row["reason"] == "low_rating"


@pytest.mark.parametrize("solved,rating", [(True, 3), (True, 4), (True, 5), (False, 3)])
def test_what_a_middle_or_good_answer_does(client, agent, act, file_ticket, jobs, solved, rating):
    filed = file_ticket()
    resolve(act, agent, filed["number"])
    jobs.drain(periodic=False)
    answered = _answer(client, panel_link(client, filed["token"]), solved=solved, rating=rating)
    expected = {(True, 3): ("none", "resolved"), (True, 4): ("closed", "closed"), (True, 5): ("closed", "closed"),
                (False, 3): ("reopened", "in_progress")}[(solved, rating)]
    assert (answered["outcome"], answered["status"]) == expected
    assert stored_status(filed["number"]) == expected[1]


def test_not_solved_past_the_reopen_window_opens_a_linked_follow_up(client, make_staff, act, file_ticket, jobs,
                                                                     listener):
    give_supervisor(make_staff)
    agent = make_staff("agent")[1]
    filed = file_ticket()
    resolve(act, agent, filed["number"])
    jobs.drain(periodic=False)
    db.session.execute(sa.update(Ticket).where(Ticket.number == filed["number"])
                       .values(resolved_at=utcnow() - timedelta(days=20)))
    db.session.commit()
    answered = _answer(client, panel_link(client, filed["token"]), solved=False, rating=3, comment="Leaks again")
    followup = answered["followup"]
    assert answered["outcome"] == "followup" and answered["status"] == "closed"
    assert stored_status(filed["number"]) == "closed"
    shown = client.get(f"/api/v1/tickets/{followup['number']}", headers=agent).json
    assert shown["parent"] == filed["number"] and shown["status"] == "new"
    # The follow-up's own tracking token works for the customer.
    assert client.get(f"/api/v1/public/tickets/{followup['token']}").json["number"] == followup["number"]
    [row] = client.get("/api/v1/surveys/recovery", headers=agent).json
    assert row["followup"] == followup["number"]
    assert listener.calls[0]["answer"]["followup"] == followup["number"]
    assert listener.events[0][2]["outcome"] == "followup" and listener.events[0][2]["followup"] == followup["number"]


def test_not_solved_on_a_closed_ticket_opens_a_follow_up(client, make_staff, act, file_ticket, jobs):
    give_supervisor(make_staff)
    agent = make_staff("agent")[1]
    filed = file_ticket()
    resolve(act, agent, filed["number"])
    jobs.drain(periodic=False)
    link = panel_link(client, filed["token"])
    # The customer accepted the resolution first; the survey stays open.
    assert client.post(f"/api/v1/public/tickets/{filed['token']}/resolution", json={"accepted": True}).status_code == 200
    assert panel_link(client, filed["token"]) == link
    answered = _answer(client, link, solved=False, rating=2, comment="It broke again a day later")
    followup = answered["followup"]
    assert answered["outcome"] == "followup" and answered["status"] == "closed"
    shown = client.get(f"/api/v1/tickets/{followup['number']}", headers=agent).json
    assert shown["subject"] == f"Follow-up to {filed['number']}: Washing machine not delivered"
    assert shown["department"] == "after_sales" and shown["customer"]["name"] == "Wang Fang"
    assert "It broke again a day later" in shown["description"]
    [row] = client.get("/api/v1/surveys/recovery", headers=agent).json
    assert (row["number"], row["followup"]) == (filed["number"], followup["number"])


def test_recovery_roles_and_closing_by_hand(client, make_staff, act, file_ticket, jobs):
    give_supervisor(make_staff)
    agent = make_staff("agent")[1]
    supervisor = make_staff("supervisor")[1]
    filed = file_ticket()
    resolve(act, agent, filed["number"])
    jobs.drain(periodic=False)
    _answer(client, panel_link(client, filed["token"]), solved=False, rating=1)
    assert client.get("/api/v1/surveys/recovery").status_code == 401
    [row] = client.get("/api/v1/surveys/recovery?department=after_sales", headers=agent).json
    assert client.get("/api/v1/surveys/recovery?department=finance", headers=agent).json == []
    url = f"/api/v1/surveys/recovery/{row['id']}/close"
    assert client.post(url, headers=agent, json={"note": "called back"}).status_code == 403
    missing = client.post(url, headers=supervisor, json={})
    assert missing.status_code == 422 and missing.json["error"]["fields"] == {"note": ["Missing data for required field."]}
    closed = client.post(url, headers=supervisor, json={"note": "called back, voucher sent"})
    assert closed.status_code == 200 and closed.json["recovered_by"].endswith(": called back, voucher sent")
    assert client.post(url, headers=supervisor, json={"note": "again"}).status_code == 409
    assert client.post("/api/v1/surveys/recovery/999/close", headers=supervisor, json={"note": "x"}).status_code == 404
    assert client.get("/api/v1/surveys/recovery", headers=agent).json == []


def test_staff_see_the_ticket_surveys(client, agent, act, file_ticket, jobs):
    filed = file_ticket()
    resolve(act, agent, filed["number"])
    jobs.drain(periodic=False)
    _answer(client, panel_link(client, filed["token"]), solved=True, rating=4, comment="ok")
    assert client.get(f"/api/v1/tickets/{filed['number']}/surveys").status_code == 401
    [row] = client.get(f"/api/v1/tickets/{filed['number']}/surveys", headers=agent).json
    assert (row["round"], row["status"], row["solved"], row["rating"], row["comment"], row["outcome"]) == (
        0, "answered", True, 4, "ok", "closed")
    assert row["sla_met"] is True
    assert client.get("/api/v1/tickets/KF-999999/surveys", headers=agent).status_code == 404
