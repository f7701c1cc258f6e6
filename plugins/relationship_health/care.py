"""Proactive care: a care ticket for a key customer who reaches "at risk".

When the recompute records a change of a customer's level to ``at_risk``
(the ``customer.health_changed`` event), and the customer is in a key tier
(``HEALTH_KEY_TIERS``, the tier the core's ``customer_tier`` decider
answers), the ``relationship_health.care`` job opens a ticket of kind
``care`` through channel ``outbound`` (both declared with
``register_ticket_codes``): assigned to the account owner, in the care
department (``HEALTH_CARE_DEPARTMENT``: its queue when there is no owner),
with the signals that scored in an internal note, translated.

* **One open care ticket per customer**: none is opened while one of the
  customer's care tickets is not closed or cancelled. The customer's
  ``CareState`` row is locked while this is decided, so two level changes
  close together open one ticket.
* **Cool-down**: none within ``HEALTH_CARE_COOLDOWN_DAYS`` of the last care
  ticket's closing (or cancelling).
* **Its own SLA**: ``sla_targets`` answers first (``tryfirst``) for kind
  ``care`` only: first response in ``HEALTH_CARE_FIRST_RESPONSE_DAYS``,
  resolution in ``HEALTH_CARE_RESOLUTION_DAYS`` business days (Monday to
  Friday, UTC; holidays are the SLA plugin's calendars, which this plugin
  cannot read).

And a complaint from a key customer at risk opens at
``HEALTH_AT_RISK_COMPLAINT_PRIORITY`` at least (``opening_ticket``), with a
note saying why.
"""
from __future__ import annotations

import logging
from datetime import datetime, timedelta, timezone

from sqlalchemy import func, select

from service import sdk

from . import catalog
from .care_models import CareState
from .care_texts import (CARE_DESCRIPTION, CARE_NOTE_HEAD, CARE_NOTE_LINE, CARE_SUBJECT, COMPLAINT_RAISED,
                         PRIORITY_TEXTS, speaking, team_language)
from .detail import signal_rows
from .models import CustomerHealth
from .owners import notify, owner_of
from .settings import settings

log = logging.getLogger("kefu.relationship_health")
PLUGIN = "relationship_health"
ACTOR = sdk.plugin_actor(PLUGIN)
KIND, CHANNEL = "care", "outbound"
CARE_JOB = "relationship_health.care"
POLICY = "relationship_health:care"


def tier_of(customer) -> str | None:
    """The customer's tier as the core's ``customer_tier`` decider answers (None without a tier plugin)."""
    answer, _plugin, _failures = sdk.ask("customer_tier", customer=customer)
    return None if answer is None else str(answer)


def business_days_after(start: datetime, days: int) -> datetime:
    """``start`` plus ``days`` working days (Monday to Friday, in UTC), at the same time of day."""
    moment, left = start, days
    while left > 0:
        moment += timedelta(days=1)
        if moment.weekday() < 5:
            left -= 1
    return moment


def sla_targets(ticket, start: datetime) -> dict | None:
    """The ``sla_targets`` answer for a care ticket (None for any other kind)."""
    if ticket.kind != KIND:
        return None
    care = settings().care
    return {"policy": POLICY, "first_response_due": business_days_after(start, care.first_response_days),
            "resolution_due": business_days_after(start, care.resolution_days)}


def complaint_opening(draft) -> dict | None:
    """The ``opening_ticket`` answer: raise an at-risk key customer's complaint."""
    care = settings().care
    if (draft.kind != "complaint" or not care.is_key(draft.customer_tier) or draft.customer is None
            or draft.customer.id is None):  # a customer new with this ticket has no health yet
        return None
    wanted = care.complaint_priority
    if sdk.PRIORITIES.index(draft.priority) >= sdk.PRIORITIES.index(wanted):
        return None
    health = sdk.db.session.get(CustomerHealth, draft.customer.id)
    if health is None or health.level != "at_risk":
        return None
    with speaking(team_language()):
        note = str(COMPLAINT_RAISED) % {"priority": str(PRIORITY_TEXTS.get(wanted, wanted)),
                                        "tier": draft.customer_tier, "score": health.score}
    return {"changes": {"priority": wanted}, "notes": [note]}


def on_health_changed(customer_id: int, data: dict, occurred_at: datetime) -> None:
    """``customer.health_changed``: tell the owner; at ``at_risk``, ask for
    the care job (a key customer only; the job checks again)."""
    notify(customer_id, "health_changed", f"health:{customer_id}:{occurred_at.isoformat()}",
           {"from": data.get("from"), "to": data.get("to"), "score": data.get("score")})
    if data.get("to") != "at_risk":
        return
    customer = sdk.db.session.get(sdk.Customer, customer_id)
    if customer is None or not settings().care.is_key(tier_of(customer)):
        return
    with sdk.UnitOfWork() as uow:
        sdk.enqueue(CARE_JOB, dedupe_key=f"care:{customer_id}:{occurred_at.isoformat()}", customer_id=customer_id)
        uow.commit()


def care_job(customer_id: int) -> str:
    """``relationship_health.care``: open a care ticket for customer
    ``customer_id`` if they are still at risk, in a key tier, have no open
    care ticket and are not cooling down. Safe to run twice. Returns what it did."""
    care = settings().care
    session = sdk.db.session
    with sdk.UnitOfWork() as uow:
        customer = sdk.hold_customer(customer_id)
        health = session.get(CustomerHealth, customer_id)
        if health is None or health.level != "at_risk":
            return "not at risk"
        tier = tier_of(customer)
        if not care.is_key(tier):
            return "not a key customer"
        # The care state row: created once, then locked, so that a second
        # decision for this customer waits for this one and sees its ticket.
        sdk.add_once(CareState(customer_id=customer_id))
        state = session.scalar(select(CareState).where(CareState.customer_id == customer_id)
                               .with_for_update().execution_options(populate_existing=True))
        mine = (sdk.Ticket.customer_id == customer_id, sdk.Ticket.kind == KIND)
        if session.scalar(select(sdk.Ticket.id).where(*mine, sdk.Ticket.status.not_in(sdk.FINAL_STATUSES))
                          .limit(1)) is not None:
            return "a care ticket is open"
        ended = session.scalar(select(func.max(func.coalesce(sdk.Ticket.closed_at, sdk.Ticket.cancelled_at)))
                               .where(*mine))
        now = sdk.utcnow()
        if ended is not None and care.cooldown_days and _aware(ended) > now - timedelta(days=care.cooldown_days):
            return "cooling down"
        owner = owner_of(customer_id)
        department = care.department if care.department and _department_exists(care.department) else None
        with speaking(team_language()):
            names = {"customer": customer.name, "tier": tier, "score": health.score}
            subject, description = str(CARE_SUBJECT) % names, str(CARE_DESCRIPTION) % names
            note = _signals_note(health)
        ticket, _token = sdk.open_ticket(
            {"customer_id": customer_id, "kind": KIND, "subject": subject[:200], "description": description,
             "priority": care.priority, "department": department, "assignee": owner.id if owner else None},
            ACTOR, channel=CHANNEL)
        sdk.add_note(ticket, note, ACTOR)
        state.last_ticket_id, state.last_opened_at = ticket.id, now
        ticket_id, number = ticket.id, ticket.number
        uow.commit()
    notify(customer_id, "care_opened", f"care:{ticket_id}", {"number": number}, ticket_id)
    return f"opened {number}"


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=timezone.utc)


def _department_exists(code: str) -> bool:
    found = sdk.db.session.scalar(select(sdk.Department.id).where(sdk.Department.code == code))
    if found is None:
        log.warning("relationship_health: HEALTH_CARE_DEPARTMENT %r is no department: care tickets go to no "
                    "department", code)
    return found is not None


def _signals_note(health: CustomerHealth) -> str:
    """The internal note: each signal that scored, its label, value, points
    and explanation, in the current language."""
    rows = [r for r in signal_rows(catalog.in_force(), health.signal_values or {}, health.signal_points or {})
            if r["points"]]
    lines = [str(CARE_NOTE_HEAD)]
    lines += ["- " + str(CARE_NOTE_LINE) % {"label": r["label"], "value": "-" if r["value"] is None else r["value"],
                                            "points": r["points"], "explanation": r["explanation"]} for r in rows]
    return "\n".join(lines)
