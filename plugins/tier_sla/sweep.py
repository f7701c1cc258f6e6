"""The SLA sweep: fire due escalation steps, each exactly once.

The periodic ``tier_sla.sweep`` job first starts the clocks of tickets
opened since the last run (``adopt``), then reads only the clocks whose
``next_check`` has come (an index on it), so its cost follows the number of
tickets falling due, not the number of open tickets. All steps due in one
run are written in one transaction: the steps taken, history events, staff
alerts (mail jobs) and flags. A worker that was down catches up: every step
whose time has passed fires once, in ladder order, because the steps taken
are stored with the clock. The ``sla_warning``/``sla_breached`` hooks fire
after the commit; a take-over (reassign to the supervisor, raise the
priority) goes through the core's ``update_ticket`` use case afterwards.
"""
from __future__ import annotations

import logging
from datetime import datetime

from flask import current_app
from sqlalchemy import exists, func, select

from service.usecases import history
from service.jobs import registry as jobs
from service.domain.actors import Actor
from service.domain.errors import KefuError
from service.extensions import db
from service.domain.workflow import FINAL_STATUSES as FINAL
from service.mail.outgoing.notices import alert_staff_many
from service.models import Department, Ticket
from service.models.base import utcnow
from service.jobs.outbox import relay_after_commit
from service.usecases.tickets import update_ticket

from . import clock
from . import policy as policies
from .sla import policy_of
from .models import TicketSla

log = logging.getLogger("kefu.tier_sla")
ACTOR = Actor("plugin", name="tier_sla")
RAISE = {"low": "normal", "normal": "high", "high": "urgent", "urgent": "urgent"}


def _alert(alerts: list, staff_id, ticket, target, step, due) -> None:
    if staff_id:
        words = "falls due" if step["at"] < 1 else "fell due"
        alerts.append({
            "staff_id": staff_id, "ticket_id": ticket.id, "kind": f"SLA {step['name']}",
            "text": f"The {target.replace('_', ' ')} target of {ticket.number} {words} at "
                    f"{due:%Y-%m-%d %H:%M} UTC ({ticket.priority} priority, tier {ticket.customer_tier or '-'}).",
            "key": f"sla:{ticket.id}:{target}:{step['name']}"})


ADOPT_MARGIN = 10_000  # ticket ids below the newest clock still looked at


def adopt(limit: int = 1000) -> int:
    """Start clocks for open tickets that have none (new since the last sweep,
    or opened before the plugin was enabled); returns how many. The due times
    are on the tickets already (the decider answered when they were opened);
    only the clock is written here, in the sweep's transaction."""
    newest = db.session.scalar(select(func.max(TicketSla.ticket_id))) or 0
    tickets = db.session.scalars(
        select(Ticket).where(Ticket.id > newest - ADOPT_MARGIN, Ticket.status.not_in(FINAL),
                             ~exists().where(TicketSla.ticket_id == Ticket.id))
        .order_by(Ticket.id).limit(limit)).all()
    if not tickets:
        return 0
    for ticket in tickets:
        row = clock.start_clock(ticket, policy_of(ticket), ticket.customer_tier, ticket.created_at)
        row.ticket_id = ticket.id
        db.session.add(row)
    db.session.flush()
    return len(tickets)


def sweep(now: datetime | None = None, limit: int = 1000) -> dict:
    """Fire every escalation step due by ``now`` on up to ``limit`` clocks.

    Returns counts: ``clocks`` looked at, ``steps`` fired. Safe to run
    concurrently (rows are locked and skipped on PostgreSQL) and repeatedly.
    """
    now = now or utcnow()
    adopted = adopt(limit)
    # The due clocks with their tickets in one read (the index on next_check;
    # a join, not a thousand-id IN list). Only the clocks are locked.
    pairs = db.session.execute(
        select(TicketSla, Ticket).join(Ticket, Ticket.id == TicketSla.ticket_id)
        .where(TicketSla.next_check <= now).order_by(TicketSla.next_check)
        .limit(limit).with_for_update(of=TicketSla, skip_locked=True)).all()
    if not pairs:
        db.session.commit()  # the adopted clocks
        return {"clocks": 0, "steps": 0, "adopted": adopted}
    pols = {pid: policies.by_id(pid) for pid in {row.policy_id for row, _ in pairs}}
    supervisors = dict(db.session.execute(select(Department.id, Department.supervisor_id)).all())
    fired, alerts = [], []
    for row, ticket in pairs:
        pol = pols[row.policy_id]
        if ticket.status in FINAL:
            row.next_check = None
            continue
        dues = clock.Dues(row, pol)
        done = list(row.steps_done or [])
        for target, step, when in list(clock.pending_steps(row, pol, dues)):
            if when is None or when > now:
                continue
            done.append(f"{target}:{step['name']}")
            due = dues(target)
            supervisor = supervisors.get(ticket.department_id)
            history.record(ticket, ACTOR, f"sla_{step['name']}", target=target, due=due.isoformat(),
                           step_action=step["action"], late_by_check=str(now - when).split(".")[0])
            if step["action"] == "notify_assignee":
                _alert(alerts, ticket.assignee_id or supervisor, ticket, target, step, due)
            elif step["action"] == "notify_supervisor_and_flag":
                row.flagged = True
                _alert(alerts, supervisor, ticket, target, step, due)
            fired.append((ticket, target, due, step, supervisor))
        row.steps_done = done
        clock.refresh(row, pol, dues)  # steps taken change nothing the memo holds
    # A few jobs for the whole run, not a row per alert: a sweep catching up
    # on a thousand clocks writes a handful of outbox rows.
    alert_staff_many(alerts)
    db.session.commit()
    relay_after_commit(jobs.take_enqueued(db.session))
    _after_commit(fired)
    return {"clocks": len(pairs), "steps": len(fired), "adopted": adopted}


def _after_commit(fired) -> None:
    plugins = current_app.extensions["kefu_plugins"]
    for ticket, target, due, step, supervisor in fired:
        hook = "sla_warning" if step["at"] < 1 else "sla_breached"
        plugins.notify(hook, ticket=ticket, target=target, due=due, step=step["name"])
        if step["action"] == "reassign_to_supervisor_and_raise_priority" and supervisor:
            try:
                update_ticket(ticket.number, ticket.version,
                              {"assignee": supervisor, "priority": RAISE[ticket.priority]}, ACTOR)
            except KefuError as exc:  # changed meanwhile: the step is recorded, the next one retries nothing
                log.warning("SLA take-over of %s not applied: %s", ticket.number, exc.message)


def sweep_job() -> dict:
    """The periodic ``tier_sla.sweep`` job: sweep until nothing is due."""
    total = {"clocks": 0, "steps": 0, "adopted": 0}
    while True:
        counts = sweep()
        total = {k: total[k] + counts[k] for k in total}
        if counts["clocks"] < 1000 and counts["adopted"] < 1000:
            return total
