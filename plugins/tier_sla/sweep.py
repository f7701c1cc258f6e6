"""The SLA sweep: fire due escalation steps, each exactly once.

The periodic ``tier_sla.sweep`` job first starts the clocks of tickets
opened since the last run (``adopt``), then reads only the clocks whose
``next_check`` has come (an index on it), so its cost follows the number of
tickets falling due, not the number of open tickets. All steps due in one
run are written in one ``sdk.UnitOfWork``: the steps taken, history events
(``sdk.record_event``), staff notices (``sdk.notify_staff``: the bell, and a
few mail jobs for the whole run) and flags. A worker that was down catches up: every step whose time has
passed fires once, in ladder order, because the steps taken are stored with
the clock. The plugin's own ``sla_warning``/``sla_breached`` hooks
(``hookspecs``) are emitted and the ``sla.warning``/``sla.breached`` events
published in that unit, so they fire after its commit (a plugin that fails is
recorded on the ticket's history); a take-over (reassign to the supervisor,
raise the priority) goes through ``sdk.update_ticket`` afterwards, as a
change of its own.
"""
from __future__ import annotations

import logging
from datetime import datetime

from sqlalchemy import exists, func, select

from service import sdk

from . import clock
from . import policy as policies
from .models import TicketSla
from .sla import policy_of

log = logging.getLogger("kefu.tier_sla")
ACTOR = sdk.plugin_actor("tier_sla")
RAISE = {"low": "normal", "normal": "high", "high": "urgent", "urgent": "urgent"}
FINAL = sdk.FINAL_STATUSES


# The step's notice kind: a warning before the due time, a breach after,
# a take-over when the supervisor takes the ticket.
NOTICE = {"notify_assignee": None, "notify_supervisor_and_flag": None,
          "reassign_to_supervisor_and_raise_priority": "sla_takeover"}


def _notify(ticket, target, step, due, supervisor) -> None:
    """Tell who answers for ``ticket`` (and, past the first step, the
    supervisor) that ``step`` fired; the mail says which target and when."""
    kind = NOTICE.get(step["action"]) or ("sla_warning" if step["at"] < 1 else "sla_breach")
    words = "falls due" if step["at"] < 1 else "fell due"
    detail = (f"The {target.replace('_', ' ')} target of {ticket.number} {words} at "
              f"{due:%Y-%m-%d %H:%M} UTC ({ticket.priority} priority, tier {ticket.customer_tier or '-'}).")
    also = [supervisor] if supervisor and step["action"] != "notify_assignee" else []
    sdk.notify_staff(ticket, kind, ACTOR, also=also, detail=detail)


ADOPT_MARGIN = 10_000  # ticket ids below the newest clock still looked at


def adopt(limit: int = 1000) -> int:
    """Start clocks for open tickets that have none (new since the last sweep,
    or opened before the plugin was enabled); returns how many. The due times
    are on the tickets already (the decider answered when they were opened);
    only the clock is written here, in the sweep's unit of work."""
    session = sdk.db.session
    Ticket = sdk.Ticket
    newest = session.scalar(select(func.max(TicketSla.ticket_id))) or 0
    tickets = session.scalars(
        select(Ticket).where(Ticket.id > newest - ADOPT_MARGIN, Ticket.status.not_in(FINAL),
                             ~exists().where(TicketSla.ticket_id == Ticket.id))
        .order_by(Ticket.id).limit(limit)).all()
    if not tickets:
        return 0
    for ticket in tickets:
        row = clock.start_clock(ticket, policy_of(ticket), ticket.customer_tier, ticket.created_at)
        row.ticket_id = ticket.id
        # A change to the ticket may start its clock at the same moment
        # (sla.clock_for): whichever commits first, the other takes its row.
        sdk.add_once(row)
    return len(tickets)


def sweep(now: datetime | None = None, limit: int = 1000) -> dict:
    """Fire every escalation step due by ``now`` on up to ``limit`` clocks.

    Returns counts: ``clocks`` looked at, ``steps`` fired, clocks
    ``adopted``. Safe to run concurrently (rows are locked and skipped on
    PostgreSQL) and repeatedly.
    """
    now = now or sdk.utcnow()
    session = sdk.db.session
    takeovers = []
    with sdk.UnitOfWork() as uow:
        adopted = adopt(limit)
        # The due clocks with their tickets in one read (the index on next_check;
        # a join, not a thousand-id IN list). Only the clocks are locked.
        pairs = session.execute(
            select(TicketSla, sdk.Ticket).join(sdk.Ticket, sdk.Ticket.id == TicketSla.ticket_id)
            .where(TicketSla.next_check <= now).order_by(TicketSla.next_check)
            .limit(limit).with_for_update(of=TicketSla, skip_locked=True)).all()
        if not pairs:
            uow.commit()  # the adopted clocks
            return {"clocks": 0, "steps": 0, "adopted": adopted}
        pols = {pid: policies.by_id(pid) for pid in {row.policy_id for row, _ in pairs}}
        supervisors = dict(session.execute(select(sdk.Department.id, sdk.Department.supervisor_id)).all())
        fired = 0
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
                sdk.record_event(ticket, ACTOR, f"sla_{step['name']}", target=target, due=due.isoformat(),
                                 step_action=step["action"], late_by_check=str(now - when).split(".")[0])
                _notify(ticket, target, step, due, supervisor)
                if step["action"] == "notify_supervisor_and_flag":
                    row.flagged = True
                elif step["action"] == "reassign_to_supervisor_and_raise_priority" and supervisor:
                    takeovers.append((ticket, supervisor))
                warning = step["at"] < 1
                uow.emit("sla_warning" if warning else "sla_breached",
                         ticket=ticket, target=target, due=due, step=step["name"])
                uow.publish("sla.warning" if warning else "sla.breached", ticket,
                            {"target": target, "due": due.isoformat(), "step": step["name"]})
                fired += 1
            row.steps_done = done
            clock.refresh(row, pol, dues)  # steps taken change nothing the memo holds
        # The notices' mail goes out in a few jobs for the whole run, not a
        # job per notice: a sweep catching up on a thousand clocks queues a handful.
        uow.commit()  # then the hooks fire and the events are published
    for ticket, supervisor in takeovers:
        _take_over(ticket, supervisor)
    return {"clocks": len(pairs), "steps": fired, "adopted": adopted}


def _take_over(ticket, supervisor: int) -> None:
    """Reassign ``ticket`` to its department's supervisor and raise its
    priority, as the plugin, through the core's use case (guards, history,
    ``ticket_updated``)."""
    try:
        sdk.update_ticket(ticket, {"assignee": supervisor, "priority": RAISE[ticket.priority]}, ACTOR)
    except sdk.KefuError as exc:  # changed meanwhile, or refused: the step is recorded, nothing retries it
        log.warning("SLA take-over of %s not applied: %s", ticket.number, exc.message)


def sweep_job() -> dict:
    """The periodic ``tier_sla.sweep`` job: sweep until nothing is due."""
    total = {"clocks": 0, "steps": 0, "adopted": 0}
    while True:
        counts = sweep()
        total = {k: total[k] + counts[k] for k in total}
        if counts["clocks"] < 1000 and counts["adopted"] < 1000:
            return total
