"""satisfaction_survey's part of the demo: surveys for the demo's resolved
tickets, so that ``make run`` shows an open survey on a tracking page, a
happy answer, a "not solved" answer that reopened its ticket and marked it
for recovery, the customers' classes and the report.

The small demo (``load``) works on its dozen tickets at the real time. The
full one (``load_history``) goes through the half year's surveys at their
times (``demo.at``): each is opened when it was due, most are answered a
little later - happy, lukewarm or unhappy customers alike, so that every
satisfaction class has customers - and most recoveries end a few days on.

The demo's tickets were resolved before this part runs, so their surveys are
already scheduled (by this plugin's own ``ticket_transitioned``); they are
opened here without mail (the demo's customers are made up, and the demo
drops the mail its setup queued) and answered through the same use case as
the customer's POST. Everything is written through the SDK's use cases and
this plugin's own, each in its unit of work.
"""
from __future__ import annotations

import random
from datetime import timedelta

from sqlalchemy import select

from service import sdk

from . import tokens
from .answers import answer_survey, end_recovery
from .models import Recovery, Survey
from .settings import survey_settings
from .surveys import open_now, schedule

BLANK = {"effort": None, "nps": None, "extra": {}, "reasons": [], "comment": None}


def _survey(ticket: sdk.Ticket) -> Survey:
    schedule(ticket)  # None when the resolution's survey exists already
    survey = sdk.db.session.scalar(select(Survey).where(Survey.ticket_id == ticket.id)
                                   .order_by(Survey.round.desc()).limit(1))
    open_now(survey.id)
    return sdk.db.session.get(Survey, survey.id)


def load() -> list[str]:
    """Open the surveys of the demo's resolved and closed tickets; answer the
    closed one's with 5, and resolve the reopened ticket again and answer "not
    solved" (it reopens once more and is marked for recovery); leave the
    resolved one's open. Returns the summary line."""
    found = sdk.db.session.scalars(select(sdk.Ticket).where(sdk.Ticket.resolved_at.is_not(None))
                                   .order_by(sdk.Ticket.id)).all()
    opened = answered = 0
    for ticket in found:
        if ticket.status == "resolved":
            _survey(ticket)
            opened += 1
        elif ticket.status == "closed":
            survey = _survey(ticket)
            answer_survey(tokens.token_for(survey), {**BLANK, "solved": True, "rating": 5,
                                                     "comment": "师傅很专业，问题解决了，谢谢！"})
            answered += 1
        elif ticket.status == "in_progress" and ticket.assignee is not None:
            sdk.transition(ticket, "resolve", sdk.Actor.staff(ticket.assignee), resolution="已更换压缩机减震垫。")
            survey = _survey(ticket)
            answer_survey(tokens.token_for(survey), {**BLANK, "solved": False, "rating": 2, "reasons": ["slow"],
                                                     "comment": "晚上还是很吵。"})
            answered += 1
    return [f"satisfaction_survey: {answered} answered surveys (one 'not solved': reopened, marked for "
            f"recovery), {opened} open on the tracking page"]


# How each kind of customer answers: (share of surveys answered, ratings to draw from)
MOODS = {"happy": (0.75, (4, 5, 5)), "lukewarm": (0.6, (3, 4, 4, 5)), "unhappy": (0.7, (1, 2, 2, 3))}
COMMENTS = {
    "zh_CN": {True: "处理很及时，谢谢！", False: "等了太久，希望改进。"},
    "en": {True: "Quick and friendly, thank you!", False: "It took far too long."},
}


def load_history(demo: sdk.DemoPeriod) -> list[str]:
    """The full demo: open each scheduled survey at its due time, answer most
    of them at their customer's mood (a ``not solved`` only while the ticket
    is still resolved), and have the staff work what a bad answer set off -
    the reopened ticket or the follow-up it opened (``_work``; its new
    resolution's survey goes round again). Then end most recoveries a few
    days later, and mark the reminders of unanswered surveys as sent (the
    mail of the made-up past is dropped; the reminder job then finds nothing
    old to send). Returns the summary line."""
    rng = demo.random("satisfaction_survey")
    settings = survey_settings()
    moods: dict[int, str] = {}
    counts = {"opened": 0, "answered": 0, "worked": 0, "recoveries_ended": 0}
    while True:  # a bad answer's ticket, worked again, is resolved again: a survey of its own
        # Plain rows, not Survey objects: thousands of objects kept in the
        # session would make every commit expire them all.
        surveys = sdk.db.session.execute(select(Survey.id, Survey.customer_id, Survey.send_after, Survey.language)
                                         .where(Survey.status == "scheduled").order_by(Survey.id)).all()
        if not surveys:
            break
        for survey_id, customer_id, due, language in surveys:
            # Due after the history's end (its ticket auto-closed at the real
            # time, see ``service.demo``): open it now, not before its ticket closed.
            with demo.at(min(due, max(demo.end, sdk.utcnow()))):
                if not open_now(survey_id):
                    continue
            counts["opened"] += 1
            mood = moods.setdefault(customer_id, rng.choices(list(MOODS), weights=(5, 3, 2))[0])
            share, ratings = MOODS[mood]
            answered_at = due + timedelta(hours=rng.uniform(0.5, 72))
            if rng.random() >= share or answered_at >= demo.end:
                continue
            rating = rng.choice(ratings)
            with demo.at(answered_at):
                survey = sdk.db.session.get(Survey, survey_id)
                solved = not (rating <= 2 and survey.ticket.status == "resolved" and rng.random() < 0.3)
                try:
                    answer = answer_survey(tokens.token_for(survey), {
                        **BLANK, "solved": solved, "rating": rating,
                        "reasons": [rng.choice(["slow", "unreachable", "not_explained", "extra_cost", "product"])]
                        if rating <= 2 or not solved else [],
                        "comment": COMMENTS.get(language, COMMENTS["en"])[rating >= 4] if rng.random() < 0.4
                        else None})
                except sdk.KefuError:  # a guard refused the reopen: that customer did not answer
                    continue
            counts["answered"] += 1
            again = answer["followup"] or (answer["ticket"] if answer["outcome"] == "reopened" else None)
            if again is not None:
                counts["worked"] += _work(demo, rng, again.id, answered_at)
    counts["recoveries_ended"] = _end_recoveries(demo, rng)
    _mark_reminded(demo, settings.reminder_days)
    return [f"satisfaction_survey: {counts['opened']} surveys sent, {counts['answered']} answered "
            f"({counts['worked']} reopened or followed up, and worked again), "
            f"{counts['recoveries_ended']} recoveries ended by a supervisor"]


def _work(demo: sdk.DemoPeriod, rng: random.Random, ticket_id: int, since) -> int:
    """The staff take up a ticket a bad answer reopened or opened as a
    follow-up: confirm it (a follow-up), start, apologise, resolve, and
    close it a few days later, each at its time (the steps after the end of
    the period are not taken). Returns 1 when the ticket was resolved."""
    session = sdk.db.session
    ticket = session.get(sdk.Ticket, ticket_id)
    lead = session.scalar(select(sdk.Staff).where(sdk.Staff.role == "supervisor").order_by(sdk.Staff.id))
    actor = sdk.Actor.staff(ticket.assignee or lead)
    zh = (ticket.customer.language or "").startswith("zh")
    at = since + timedelta(hours=rng.uniform(1, 8))
    steps = []
    if ticket.status == "new":
        steps += [("confirm", {"department": ticket.department.code if ticket.department else "after_sales"}),
                  ("start", {})]
    steps += [("reply", {}), ("resolve", {"resolution": "已上门复查并彻底解决。" if zh else
                                          "Visited again and fixed it for good."}), ("close", {})]
    resolved = 0
    for action, values in steps:
        at += timedelta(hours=rng.uniform(2, 30) if action != "close" else rng.uniform(72, 120))
        if at >= demo.end:
            break
        with demo.at(at):
            ticket = session.get(sdk.Ticket, ticket_id)
            try:
                if action == "reply":
                    sdk.reply(ticket, "非常抱歉给您带来不便，我们马上安排处理。" if zh else
                              "We are sorry about this and are on it.", actor)
                else:
                    sdk.transition(ticket, action, actor, **values)
                    resolved += action == "resolve"
            except sdk.KefuError:  # a guard refused: the ticket stays where it is
                break
    return resolved


def _end_recoveries(demo: sdk.DemoPeriod, rng: random.Random) -> int:
    """A supervisor ends most recoveries one to five days after they began
    (through ``end_recovery``, at that time); recent ones stay open."""
    supervisor = sdk.db.session.scalar(select(sdk.Staff).where(sdk.Staff.role == "supervisor")
                                       .order_by(sdk.Staff.id))
    ended = 0
    rows = sdk.db.session.execute(select(Recovery.id, Recovery.created_at).where(Recovery.recovered_at.is_(None))
                                  .order_by(Recovery.id)).all()
    for recovery_id, created_at in rows:
        when = created_at + timedelta(days=rng.uniform(1, 5))
        if when < demo.end and rng.random() < 0.75:
            with demo.at(when):
                end_recovery(recovery_id, supervisor, "called the customer; goodwill voucher sent")
            ended += 1
    return ended


def _mark_reminded(demo: sdk.DemoPeriod, days: int) -> None:
    """The reminders of the past were part of the made-up history: mark the
    unanswered surveys delivered more than ``days`` before the real time
    (not ``demo.end``, the start of the hour) as reminded then, so the
    reminder job mails none of them when the workers start."""
    if not days:
        return
    with sdk.UnitOfWork() as uow:
        for survey in sdk.db.session.scalars(select(Survey).where(
                Survey.status == "sent", Survey.reminded_at.is_(None),
                Survey.sent_at <= sdk.utcnow() - timedelta(days=days))):
            survey.reminded_at = survey.sent_at + timedelta(days=days)
        uow.commit()
