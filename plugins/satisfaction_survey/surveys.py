"""A survey's life: scheduled at a resolution, delivered after ``SURVEY_DELAY``,
reminded once, withdrawn when the resolution is reopened before an answer.

Every change is written in a ``sdk.UnitOfWork``; the delivery and the
reminder are jobs, and mail goes out through ``sdk.send_mail`` inside
``sdk.effect_once``. The answer and what it sets off are in ``answers.py``.
"""
from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select, update

from service import sdk

from . import tokens
from .models import Survey
from .questions import language_of
from .settings import survey_settings

DELIVER_JOB = "satisfaction_survey.deliver"
REMIND_JOB = "satisfaction_survey.remind"
PAGE_ENDPOINT = "satisfaction_survey_page.page"


def sla_met(ticket: sdk.Ticket) -> bool | None:
    """Whether the ticket met its SLA targets: confirmed by its first-response
    due time and resolved by its resolution due time (each one it has).
    None when it has no target."""
    checks = []
    if ticket.first_response_due is not None:
        checks.append(ticket.confirmed_at is not None and ticket.confirmed_at <= ticket.first_response_due)
    if ticket.resolution_due is not None:
        checks.append(ticket.resolved_at is not None and ticket.resolved_at <= ticket.resolution_due)
    return all(checks) if checks else None


def schedule(ticket: sdk.Ticket) -> Survey | None:
    """Create the survey for the ticket's current resolution and queue its
    delivery ``SURVEY_DELAY`` seconds on, in a unit of work. Returns None
    when this resolution already has its survey (the notification came twice)."""
    round_ = ticket.reopen_count or 0
    if sdk.db.session.scalar(select(Survey.id).where(Survey.ticket_id == ticket.id, Survey.round == round_)):
        return None
    settings = survey_settings()
    with sdk.UnitOfWork() as uow:
        now = sdk.utcnow()
        survey = Survey(ticket_id=ticket.id, customer_id=ticket.customer_id, round=round_, status="scheduled",
                        language=language_of(ticket.customer.language), created_at=now,
                        resolved_at=ticket.resolved_at or now, send_after=now + timedelta(seconds=settings.delay),
                        agent_id=ticket.assignee_id, department_id=ticket.department_id,
                        category_id=ticket.category_id, tier=ticket.customer_tier, sla_met=sla_met(ticket))
        tokens.seal(survey)
        sdk.db.session.add(survey)
        sdk.db.session.flush()  # the id the job is given
        sdk.enqueue(DELIVER_JOB, dedupe_key=f"{DELIVER_JOB}:{survey.id}", delay=timedelta(seconds=settings.delay),
                    survey_id=survey.id)
        uow.commit()
    return survey


def withdraw_open(ticket_id: int) -> int:
    """Withdraw the ticket's unanswered surveys (its resolution was reopened),
    in a unit of work; returns how many."""
    with sdk.UnitOfWork() as uow:
        count = sdk.db.session.execute(
            update(Survey).where(Survey.ticket_id == ticket_id, Survey.status.in_(("scheduled", "sent")))
            .values(status="withdrawn", withdrawn_at=sdk.utcnow())).rowcount
        uow.commit()
    return count


def open_survey(ticket_id: int, now=None) -> Survey | None:
    """The ticket's survey that takes an answer now (delivered, unanswered,
    not expired), or None."""
    now = now or sdk.utcnow()
    return sdk.db.session.scalar(
        select(Survey).where(Survey.ticket_id == ticket_id, Survey.status == "sent", Survey.expires_at > now)
        .order_by(Survey.id.desc()).limit(1))


def survey_url(survey: Survey) -> str:
    """The absolute address of the survey's page, in requests and in jobs."""
    return sdk.external_url(PAGE_ENDPOINT, token=tokens.token_for(survey))


def _mail(survey: Survey, notice: str) -> str:
    """Mail ``notice`` (``survey_invite``, ``survey_reminder``) with the
    survey's link to the customer, once however often the job runs."""
    ticket, customer = survey.ticket, survey.ticket.customer
    if not customer.email:
        return "no recipient"
    key = f"mail:survey:{survey.id}:{notice}"
    with sdk.effect_once(key) as go:
        if not go:
            return "already sent"
        return sdk.send_mail(notice=notice, to=(customer.name, customer.email),
                             lang=sdk.mail_language(customer.language), key=key, ticket=ticket,
                             links=[("survey", survey_url(survey))] + sdk.customer_links(ticket),
                             customer=customer, expires_at=survey.expires_at)


def open_now(survey_id: int) -> bool:
    """Open a scheduled survey for answers: from now it shows on the tracking
    page and its link works ``SURVEY_TOKEN_DAYS``, in a unit of work. False
    when it was not scheduled (withdrawn meanwhile, or opened already)."""
    token_days = survey_settings().token_days
    with sdk.UnitOfWork() as uow:
        now = sdk.utcnow()
        opened = sdk.db.session.execute(
            update(Survey).where(Survey.id == survey_id, Survey.status == "scheduled")
            .values(status="sent", sent_at=now, expires_at=now + timedelta(days=token_days))).rowcount
        uow.commit()
    return bool(opened)


def deliver(survey_id: int) -> str:
    """The ``satisfaction_survey.deliver`` job: open the survey (``open_now``)
    and mail the customer once. A withdrawn or answered survey is left alone."""
    survey = sdk.db.session.get(Survey, survey_id)
    if survey is None or survey.status not in ("scheduled", "sent"):
        return "skipped"
    if survey.status == "scheduled" and not open_now(survey_id):
        return "skipped"
    return _mail(sdk.db.session.get(Survey, survey_id), "survey_invite")


def remind(now=None, limit: int = 500) -> list[int]:
    """The periodic ``satisfaction_survey.remind`` job: mail one reminder for
    each open survey delivered ``SURVEY_REMINDER_DAYS`` ago and still
    unanswered; never a second one. Returns the survey ids reminded."""
    days = survey_settings().reminder_days
    if not days:
        return []
    now = now or sdk.utcnow()
    # One query for the batch (each survey's ticket and customer load joined
    # with it), then one UPDATE for the surveys reminded, also when a send
    # fails midway: effect_once makes every mail happen once even if two runs
    # overlap or this one dies after sending, and a survey left unmarked is
    # marked by the next period without a second mail.
    due = sdk.db.session.scalars(
        select(Survey).where(Survey.status == "sent", Survey.reminded_at.is_(None),
                             Survey.sent_at <= now - timedelta(days=days), Survey.expires_at > now)
        .order_by(Survey.id).limit(limit)).unique().all()
    done = []
    try:
        for survey in due:
            _mail(survey, "survey_reminder")
            done.append(survey.id)
    finally:
        if done:
            with sdk.UnitOfWork() as uow:
                sdk.db.session.execute(update(Survey).where(Survey.id.in_(done), Survey.reminded_at.is_(None))
                                       .values(reminded_at=now))
                uow.commit()
    return done


def ticket_surveys(ticket_id: int) -> list[Survey]:
    """The ticket's surveys, oldest resolution first."""
    return list(sdk.db.session.scalars(select(Survey).where(Survey.ticket_id == ticket_id).order_by(Survey.round))
                .unique())


def surveys_of_ticket(number: str) -> list[Survey]:
    """The surveys of ticket ``number``, oldest resolution first; ``NotFound`` (404)."""
    return ticket_surveys(sdk.get_ticket(number).id)
