"""Answering a survey, and closing the loop on what the customer said.

* "not solved", or a rating of 2 or less: the resolution is rejected through
  the core's own use case (``sdk.answer_resolution``: reopened, or past
  ``REOPEN_WINDOW_DAYS`` closed with a linked follow-up); a ticket already
  closed gets a follow-up ticket (``sdk.open_ticket``). Who answers for the
  ticket and the department's supervisor are told (``sdk.notify_staff``)
  and the ticket is marked for recovery.
* "solved" with 4 or more: a resolved ticket is accepted (closed).
* Anything else is recorded and changes nothing.

All of it is one ``sdk.UnitOfWork``: the core's use cases join it, so the
answer, its history, the recovery mark and the ticket's change commit
together (or not at all); ``survey_answered`` fires and ``survey.answered``
is published after that commit.
"""
from __future__ import annotations

from flask import current_app
from sqlalchemy import or_, select, update

from service import sdk

from .models import Recovery, Survey
from .questions import LOW_RATING, REASONS, check_answer
from .settings import PLUGIN as PLUGIN_NAME
from .settings import survey_settings
from .tokens import SurveyAnswered, survey_for_token

PLUGIN = sdk.plugin_actor(PLUGIN_NAME)
GOOD_RATING = 4
# What the ``survey.answered`` event carries: the answer without free text.
EVENT_KEYS = ("survey_id", "round", "solved", "rating", "effort", "nps", "reasons", "outcome", "followup")


def is_bad(solved: bool, rating: int) -> bool:
    """A "not solved" answer or a rating of 2 or less closes the loop the hard way."""
    return not solved or rating <= LOW_RATING


def is_good(solved: bool, rating: int) -> bool:
    """A "solved" answer with 4 or more accepts the resolution."""
    return solved and rating >= GOOD_RATING


def _reason_text(data: dict) -> str:
    labels = {r["code"]: r["labels"]["en"] for r in REASONS}
    parts = ["satisfaction survey: " + ("not solved" if not data["solved"] else "solved")
             + f", rating {data['rating']}/5"]
    if data.get("reasons"):
        parts.append("reasons: " + ", ".join(labels.get(c, c) for c in data["reasons"]))
    if (data.get("comment") or "").strip():
        parts.append("comment: " + data["comment"].strip())
    return "; ".join(parts)[:2000]


def _outcome(ticket, bad: bool, good: bool, now) -> str:
    if bad and ticket.status == "resolved":
        late = sdk.reopen_is_late(ticket.resolved_at, now, current_app.config["REOPEN_WINDOW_DAYS"])
        return "followup" if late else "reopened"
    if bad and ticket.status == "closed":
        return "followup"
    if good and ticket.status == "resolved":
        return "closed"
    return "none"


def _alert(ticket, actor, text: str) -> None:
    """Tell who answers for the ticket and the department's supervisor (the
    recovery is theirs): a notice under the bell and a mail with ``text``."""
    supervisor = ticket.department.supervisor_id if ticket.department else None
    sdk.notify_staff(ticket, "bad_survey_answer", actor, also=[supervisor] if supervisor else (), detail=text)


def _recover(ticket, now) -> None:
    """A good answer about a ticket (or a follow-up) ends the recovery it was in."""
    ids = [i for i in (ticket.id, ticket.parent_id) if i]
    sdk.db.session.execute(
        update(Recovery).where(Recovery.recovered_at.is_(None),
                               or_(Recovery.ticket_id.in_(ids), Recovery.followup_ticket_id == ticket.id))
        .values(recovered_at=now, recovered_by=f"good survey answer on {ticket.number}"))


def answer_survey(token: str, data: dict) -> dict:
    """Record the customer's answer to the survey ``token`` opens, once, and
    close the loop. ``data``: ``solved``, ``rating``, optional ``effort``,
    ``nps``, ``reasons``, ``comment``, ``extra`` (as loaded by the API schema).

    Returns ``{"survey": Survey, "ticket": Ticket, "outcome": str,
    "followup": Ticket or None, "followup_token": str or None}``. Raises
    ``NotFound`` (404), ``SurveyAnswered`` (409), ``SurveyClosed`` (410),
    ``ValidationFailed`` (422) or a core error from the ticket's use case
    (409); then nothing is recorded.
    """
    now = sdk.utcnow()
    survey = survey_for_token(token, now)
    data = check_answer(data, survey_settings())
    ticket = survey.ticket
    actor = sdk.Actor.customer(ticket.customer)
    bad, good = is_bad(data["solved"], data["rating"]), is_good(data["solved"], data["rating"])
    outcome = _outcome(ticket, bad, good, now)
    followup = followup_token = None
    session = sdk.db.session
    with sdk.UnitOfWork() as uow:
        # The claim is the single use: a second answer (a double click, a
        # concurrent post) finds the survey taken and changes nothing.
        claimed = session.execute(
            update(Survey).where(Survey.id == survey.id, Survey.status == "sent", Survey.answered_at.is_(None))
            .values(status="answered", answered_at=now, solved=data["solved"], rating=data["rating"],
                    effort=data.get("effort"), nps=data.get("nps"), reasons=list(data.get("reasons") or []),
                    comment=(data.get("comment") or "").strip() or None, extra=data["extra"] or None,
                    outcome=outcome)).rowcount
        if not claimed:
            raise SurveyAnswered("this survey was already answered; thank you", {"survey_token": ["already used"]})
        sdk.record_event(ticket, actor, "survey_answered", survey=survey.id, solved=data["solved"],
                         rating=data["rating"], outcome=outcome)
        recovery = None
        if bad:
            reason = "not_solved" if not data["solved"] else "low_rating"
            recovery = Recovery(ticket_id=ticket.id, survey_id=survey.id, reason=reason, created_at=now)
            session.add(recovery)
            sdk.record_event(ticket, PLUGIN, "recovery_marked", survey=survey.id, reason=reason)
            _alert(ticket, actor, f"The customer answered the satisfaction survey of {ticket.number}: "
                                   f"{_reason_text(data)}. The ticket is marked for recovery ({outcome}).")
        elif good:
            _recover(ticket, now)
        if outcome in ("reopened", "closed") or (outcome == "followup" and ticket.status == "resolved"):
            # The core's feed-back use case (it joins this unit): the same
            # path as the customer accepting or rejecting the resolution.
            followup = sdk.answer_resolution(ticket, good, None if good else _reason_text(data), actor)
            followup_token = followup.new_token if followup is not None else None
            if (followup is not None) != (outcome == "followup"):
                # The reopen window ran out between our reading and the core's.
                outcome = "followup" if followup is not None else "reopened"
                session.execute(update(Survey).where(Survey.id == survey.id).values(outcome=outcome))
        elif outcome == "followup":
            followup, followup_token = sdk.open_ticket(
                {"customer_id": ticket.customer_id, "kind": ticket.kind, "category": ticket.category.code,
                 "priority": ticket.priority, "department": ticket.department.code if ticket.department else None,
                 "subject": sdk.followup_subject(ticket),
                 "description": _reason_text(data)}, actor, ticket.channel)
        if recovery is not None and followup is not None:
            recovery.followup_ticket_id = followup.id
            sdk.record_event(ticket, PLUGIN, "recovery_followup", followup=followup.number)
        survey = session.get(Survey, survey.id)
        answer = as_dict(survey, followup)
        uow.emit("survey_answered", ticket=ticket, answer=answer, actor=actor)
        uow.publish("survey.answered", ticket, {key: answer[key] for key in EVENT_KEYS})
        uow.commit()
    return {"survey": survey, "ticket": ticket, "outcome": outcome, "followup": followup,
            "followup_token": followup_token}


def as_dict(survey: Survey, followup=None) -> dict:
    """A survey and its answer as plain JSON-able data (for hooks and webhooks)."""
    return {"survey_id": survey.id, "round": survey.round, "solved": survey.solved, "rating": survey.rating,
            "effort": survey.effort, "nps": survey.nps, "reasons": list(survey.reasons or []),
            "comment": survey.comment, "extra": dict(survey.extra or {}),
            "answered_at": survey.answered_at.isoformat() if survey.answered_at else None,
            "outcome": survey.outcome, "followup": followup.number if followup is not None else None}


def end_recovery(recovery_id: int, staff, note: str) -> Recovery:
    """End a recovery by hand (the customer was won back some other way),
    saying who and why; 404 for no such recovery, 409 if it has ended."""
    with sdk.UnitOfWork() as uow:
        row = sdk.db.session.get(Recovery, recovery_id)
        if row is None:
            raise sdk.NotFound(f"no recovery {recovery_id}")
        if row.recovered_at is not None:
            raise sdk.Conflict(f"recovery {recovery_id} has ended already", {"recovery_id": ["already ended"]})
        row.recovered_at = sdk.utcnow()
        row.recovered_by = f"{staff.name}: {note}"[:200]
        uow.commit()
    return row


def recoveries(open_only: bool = True, limit: int = 100, department: str | None = None) -> list[Recovery]:
    """Tickets marked for recovery, newest first (only those still open by default)."""
    stmt = select(Recovery).order_by(Recovery.id.desc()).limit(limit)
    if open_only:
        stmt = stmt.where(Recovery.recovered_at.is_(None))
    if department:
        stmt = (stmt.join(sdk.Ticket, sdk.Ticket.id == Recovery.ticket_id)
                .join(sdk.Department, sdk.Department.id == sdk.Ticket.department_id)
                .where(sdk.Department.code == department))
    return list(sdk.db.session.scalars(stmt).unique())
