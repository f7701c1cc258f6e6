"""A ticket's SLA clock: due times, pauses, achieved times and when to look next.

Pure bookkeeping on a ``TicketSla`` row and its policy; the callers (the
hook implementations and the sweep) own the transactions. All instants are
aware UTC; business time comes from the policy's calendar for the ticket.
"""
from __future__ import annotations

from datetime import datetime, timezone

from . import policy as policies
from .models import SlaPolicy, TicketSla

TARGETS = ("first_response", "resolution")


def _iso(value: datetime | None) -> str | None:
    return value.astimezone(timezone.utc).isoformat() if value else None


def _parse(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


def pauses(row: TicketSla) -> list[tuple[datetime, datetime | None]]:
    """The row's pauses as ``(start, end or None)`` instants."""
    return [(_parse(p[0]), _parse(p[1])) for p in (row.pauses or [])]


def start_clock(ticket, pol: SlaPolicy, tier: str | None, start: datetime) -> TicketSla:
    """A new clock for ``ticket`` (not yet inserted is fine: only its fields are read)."""
    fr, res = policies.targets_for(pol.data, tier, ticket.priority, ticket.kind)
    row = TicketSla(policy_id=pol.id, tier=tier, calendar=policies.calendar_name(pol.data, tier),
                    started_at=start, first_response_minutes=fr, resolution_minutes=res,
                    pauses=[], paused=False, steps_done=[], flagged=False)
    refresh(row, pol)
    return row


def retarget(row: TicketSla, ticket, pol: SlaPolicy, tier: str | None) -> None:
    """New targets after a priority or tier change (same policy version and start)."""
    row.tier = tier
    row.calendar = policies.calendar_name(pol.data, tier)
    row.first_response_minutes, row.resolution_minutes = policies.targets_for(
        pol.data, tier, ticket.priority, ticket.kind)
    refresh(row, pol)


def _minutes(row: TicketSla, target: str) -> int | None:
    return row.first_response_minutes if target == "first_response" else row.resolution_minutes


def _achieved(row: TicketSla, target: str) -> bool:
    return (row.first_responded_at if target == "first_response" else row.resolved_at) is not None


class Dues:
    """A row's due instants by ``(target, share)``, each computed once: valid
    while the row's start, targets and pauses stay as they are (the sweep
    asks for the same instants several times per clock)."""

    def __init__(self, row: TicketSla, pol: SlaPolicy):
        self.row, self.memo = row, {}
        self.cal = policies.calendar(pol, row.calendar)
        self.pauses = pauses(row)

    def __call__(self, target: str, share: float = 1.0) -> datetime | None:
        key = (target, share)
        if key not in self.memo:
            minutes = _minutes(self.row, target)
            self.memo[key] = self.cal.add(self.row.started_at, minutes * share, self.pauses) if minutes else None
        return self.memo[key]


def due(row: TicketSla, pol: SlaPolicy, target: str, share: float = 1.0) -> datetime | None:
    """When ``share`` of ``target``'s business minutes will have been used
    (None: no target, or the clock is paused before then)."""
    return Dues(row, pol)(target, share)


def refresh(row: TicketSla, pol: SlaPolicy, dues: Dues | None = None) -> None:
    """Recompute the due times and ``next_check`` (the next unfired ladder step).
    ``dues``: the row's memo, if the caller has one for its current state."""
    dues = dues or Dues(row, pol)
    row.first_response_due = dues("first_response")
    row.resolution_due = dues("resolution")
    upcoming = [when for _target, _step, when in pending_steps(row, pol, dues) if when is not None]
    row.next_check = min(upcoming) if upcoming and not row.paused else None


def pending_steps(row: TicketSla, pol: SlaPolicy, dues: Dues | None = None):
    """``(target, step, when)`` for each ladder step not fired yet on a target
    not achieved yet, in ladder order."""
    dues = dues or Dues(row, pol)
    done = set(row.steps_done or [])
    for target in TARGETS:
        if not _minutes(row, target) or _achieved(row, target):
            continue
        for step in pol.data["ladder"]:
            if f"{target}:{step['name']}" not in done:
                yield target, step, dues(target, step["at"])


def pause(row: TicketSla, pol: SlaPolicy, at: datetime, reason: str) -> bool:
    """Stop the clock at ``at`` (waiting on the customer). False if already paused."""
    if row.paused:
        return False
    row.pauses = [*(row.pauses or []), [_iso(at), None, reason]]
    row.paused = True
    refresh(row, pol)
    return True


def resume(row: TicketSla, pol: SlaPolicy, at: datetime) -> bool:
    """Restart the clock at ``at``. False if it was running."""
    if not row.paused:
        return False
    items = [list(p) for p in row.pauses]
    items[-1][1] = _iso(max(at, _parse(items[-1][0])))
    row.pauses = items
    row.paused = False
    refresh(row, pol)
    return True


def used(row: TicketSla, pol: SlaPolicy, until: datetime) -> float:
    """Business minutes on the clock from the start to ``until``, pauses excluded."""
    cal = policies.calendar(pol, row.calendar)
    closed = [(s, e if e is not None else until) for s, e in pauses(row)]
    return cal.business_minutes(row.started_at, until, closed)


def achieve(row: TicketSla, pol: SlaPolicy, target: str, at: datetime) -> None:
    """Record that ``target`` was met (or missed) at ``at``, in business minutes."""
    minutes = used(row, pol, at)
    if target == "first_response" and row.first_responded_at is None:
        row.first_responded_at, row.first_response_business_minutes = at, minutes
    elif target == "resolution":
        row.resolved_at, row.resolution_business_minutes = at, minutes
    refresh(row, pol)


def reopen(row: TicketSla, pol: SlaPolicy) -> None:
    """The resolution was rejected: its clock runs on from where it was."""
    row.resolved_at, row.resolution_business_minutes = None, None
    refresh(row, pol)


def explain(row: TicketSla, pol: SlaPolicy, now: datetime) -> dict:
    """The clock in words and numbers for ``GET /api/v1/tickets/{number}/sla``."""
    out = {
        "policy": {"version": pol.id, "note": pol.note, "tier": row.tier, "calendar": row.calendar},
        "started_at": _iso(row.started_at), "paused": row.paused,
        "pauses": [{"start": _iso(s), "end": _iso(e), "reason": p[2] if len(p) > 2 else None}
                   for (s, e), p in zip(pauses(row), row.pauses or [])],
        "business_minutes_used": round(used(row, pol, now), 2),
        "flagged": row.flagged, "steps_done": list(row.steps_done or []),
        "next_check": _iso(row.next_check), "targets": {},
    }
    for target in TARGETS:
        achieved_at = row.first_responded_at if target == "first_response" else row.resolved_at
        achieved_min = (row.first_response_business_minutes if target == "first_response"
                        else row.resolution_business_minutes)
        minutes = _minutes(row, target)
        out["targets"][target] = {
            "business_minutes": minutes,
            "due": _iso(row.first_response_due if target == "first_response" else row.resolution_due),
            "achieved_at": _iso(achieved_at),
            "achieved_business_minutes": round(achieved_min, 2) if achieved_min is not None else None,
            "met": (achieved_min <= minutes) if (achieved_min is not None and minutes) else None,
            "warnings": [s for s in (row.steps_done or []) if s.startswith(f"{target}:")],
        }
    return out
