"""The SLA policy: a tier x priority matrix of business-minute targets, stricter
targets per kind, business calendars, the warning share and the escalation
ladder, stored as versions (``SlaPolicy`` rows, never edited).

A ticket keeps the policy version it started under; a new version applies
to new tickets, and to old ones only when a supervisor re-applies it.
"""
from __future__ import annotations

from flask import current_app
from sqlalchemy import select

from service import sdk

from .calendar import ALWAYS_OPEN_DATA, DEFAULT_CALENDAR_DATA, Calendar
from .models import SlaPolicy

PRIORITIES = ("urgent", "high", "normal", "low")
DAY = 450  # business minutes in a default working day (09:00-12:00, 13:30-18:00)


def _row(fr_urgent, res_urgent, fr_high, res_high, fr_normal, res_normal, fr_low, res_low):
    return {"urgent": {"first_response": fr_urgent, "resolution": res_urgent},
            "high": {"first_response": fr_high, "resolution": res_high},
            "normal": {"first_response": fr_normal, "resolution": res_normal},
            "low": {"first_response": fr_low, "resolution": res_low}}


# Top tiers are answered fastest; the lowest tier's low priority gets one
# business day to a first response and five to a resolution.
TOP = _row(30, 240, 60, 480, 120, DAY, 240, 2 * DAY)
SECOND = _row(60, 480, 120, DAY, 240, 2 * DAY, DAY, 3 * DAY)
THIRD = _row(120, DAY, 240, 2 * DAY, DAY // 2, 3 * DAY, DAY, 4 * DAY)
LOWEST = _row(240, 2 * DAY, DAY // 2, 3 * DAY, DAY, 4 * DAY, DAY, 5 * DAY)

# The escalation ladder, as data: each step fires once per target, when the
# business time used reaches ``at`` (a share of the target).
DEFAULT_LADDER = [
    {"name": "warning", "at": 0.75, "action": "notify_assignee"},
    {"name": "breach", "at": 1.0, "action": "notify_supervisor_and_flag"},
    {"name": "takeover", "at": 1.5, "action": "reassign_to_supervisor_and_raise_priority"},
]
ACTIONS = ("notify_assignee", "notify_supervisor_and_flag", "reassign_to_supervisor_and_raise_priority")

DEFAULT_POLICY = {
    "targets": {"vip": TOP, "major": SECOND, "ordinary": THIRD, "small": LOWEST,
                "A": TOP, "B": SECOND, "C": LOWEST},
    # Tickets with no tier (no spend data yet, or tiers switched off).
    "fallback_tier": "small",
    "kinds": {},  # e.g. {"complaint": {"vip": {...}}}: stricter targets per kind
    "calendars": {"business": DEFAULT_CALENDAR_DATA, "24x7": ALWAYS_OPEN_DATA},
    "default_calendar": "business",
    "tier_calendars": {"vip": "24x7"},  # top customers are watched round the clock
    "ladder": DEFAULT_LADDER,
}


def _fail(field: str, reason: str):
    raise sdk.ValidationFailed(f"{field}: {reason}", {field: [reason]})


def _check_matrix(matrix, field: str) -> None:
    if not isinstance(matrix, dict):
        _fail(field, "must be an object of tier -> priority -> targets")
    for tier, row in matrix.items():
        if not isinstance(row, dict):
            _fail(f"{field}.{tier}", "must be an object of priority -> targets")
        for priority, targets in row.items():
            where = f"{field}.{tier}.{priority}"
            if priority not in PRIORITIES:
                _fail(where, f"unknown priority; one of {', '.join(PRIORITIES)}")
            if not isinstance(targets, dict) or set(targets) - {"first_response", "resolution"}:
                _fail(where, "must be {first_response: minutes, resolution: minutes}")
            for key, minutes in targets.items():
                if minutes is not None and (not isinstance(minutes, int) or isinstance(minutes, bool)
                                            or not 1 <= minutes <= 525_600):
                    _fail(f"{where}.{key}", "must be whole business minutes from 1 to 525600, or null")
            fr, res = targets.get("first_response"), targets.get("resolution")
            if fr and res and fr > res:
                _fail(where, "the first response cannot be due after the resolution")


def validate(data: dict) -> dict:
    """Check a policy document; return it complete (defaults filled in).

    Raises ``ValidationFailed`` naming the field, e.g.
    ``targets.vip.urgent.resolution``, ``calendars.business.timezone``.
    """
    if not isinstance(data, dict):
        _fail("policy", "must be an object")
    unknown = set(data) - set(DEFAULT_POLICY)
    if unknown:
        _fail(sorted(unknown)[0], "unknown field")
    full = {**DEFAULT_POLICY, **data}
    _check_matrix(full["targets"], "targets")
    if not isinstance(full["kinds"], dict):
        _fail("kinds", "must be an object of kind -> matrix")
    for kind, matrix in full["kinds"].items():
        _check_matrix(matrix, f"kinds.{kind}")
    if not isinstance(full["calendars"], dict) or not full["calendars"]:
        _fail("calendars", "must name at least one calendar")
    for name, cal in full["calendars"].items():
        try:
            Calendar.from_dict({**cal, "name": name} if isinstance(cal, dict) else cal)
        except ValueError as exc:
            _fail(f"calendars.{name}", str(exc))
    for field, name in [("default_calendar", full["default_calendar"])] + [
            (f"tier_calendars.{t}", n) for t, n in (full["tier_calendars"] or {}).items()]:
        if name not in full["calendars"]:
            _fail(field, f"no calendar named {name!r}")
    if full["fallback_tier"] not in full["targets"]:
        _fail("fallback_tier", "must be a tier of targets")
    ladder = full["ladder"]
    if not isinstance(ladder, list) or not ladder:
        _fail("ladder", "must be a list of steps")
    names = set()
    for i, step in enumerate(ladder):
        if not isinstance(step, dict) or step.get("action") not in ACTIONS:
            _fail(f"ladder.{i}.action", f"one of {', '.join(ACTIONS)}")
        at = step.get("at")
        if not isinstance(at, (int, float)) or isinstance(at, bool) or not 0 < at <= 10:
            _fail(f"ladder.{i}.at", "a share of the target above 0 and at most 10 (1 = the deadline)")
        if not step.get("name") or step["name"] in names:
            _fail(f"ladder.{i}.name", "a unique name")
        names.add(step["name"])
    return full


def _cache() -> dict:
    # Per app and process ("in_force" -> (expires, copy); id -> copy;
    # ("calendar", id, name) -> Calendar): ids are only unique per database.
    return current_app.extensions.setdefault("kefu_sla_policies", {})


def _copy(policy: SlaPolicy) -> SlaPolicy:
    # Versions are never edited, so a detached copy stays true; only which
    # version is newest can change (see ``in_force``).
    return SlaPolicy(id=policy.id, created_at=policy.created_at, created_by=policy.created_by,
                     note=policy.note, data=policy.data)


def current(session=None) -> SlaPolicy:
    """The policy in force as a row of this session: the newest version,
    created from the defaults if none exists (the caller's unit of work commits)."""
    session = session or sdk.db.session
    policy = session.scalar(select(SlaPolicy).order_by(SlaPolicy.id.desc()).limit(1))
    if policy is None:
        policy = SlaPolicy(data=validate({}), note="defaults", created_by=None)
        session.add(policy)
        session.flush()
    return policy


def in_force(ttl: float = 5.0) -> SlaPolicy:
    """The newest version, read-only, remembered per process for ``ttl``
    seconds (a new version applies at once in the process that saved it,
    within ``ttl`` elsewhere). Before any version is saved: the defaults,
    unsaved, with id 0. Never writes (deciders may call it)."""
    import time

    cache = _cache()
    hit = cache.get("in_force")
    if hit is None or hit[0] <= time.monotonic():
        row = sdk.db.session.scalar(select(SlaPolicy).order_by(SlaPolicy.id.desc()).limit(1))
        policy = _copy(row) if row is not None else SlaPolicy(id=0, data=validate({}), note="defaults")
        hit = (time.monotonic() + ttl, policy)
        cache["in_force"] = hit
    return hit[1]


def by_id(policy_id: int) -> SlaPolicy | None:
    """Version ``policy_id``, read-only (cached: versions never change)."""
    cache = _cache()
    policy = cache.get(policy_id)
    if policy is None:
        row = sdk.db.session.get(SlaPolicy, policy_id)
        if row is None:
            return None
        policy = cache[policy_id] = _copy(row)
    return policy


def forget() -> None:
    """Drop this process's cache (after saving a version)."""
    _cache().clear()


def save(data: dict, staff_id: int | None, note: str | None = None) -> SlaPolicy:
    """Store ``data`` (validated) as the newest version; the caller's unit of work commits."""
    policy = SlaPolicy(data=validate(data), created_by=staff_id, note=(note or "")[:200] or None)
    sdk.db.session.add(policy)
    sdk.db.session.flush()
    forget()
    return policy


def current_committed() -> SlaPolicy:
    """``current()`` as one unit of work: the defaults' first version, if it
    is made now, is committed."""
    with sdk.UnitOfWork() as uow:
        pol = current()
        uow.commit()
    return pol


def publish(data: dict, staff_id: int | None, note: str | None = None) -> SlaPolicy:
    """``save()`` as one unit of work: the new version is in force once this returns."""
    with sdk.UnitOfWork() as uow:
        pol = save(data, staff_id, note)
        uow.commit()
    return pol


def targets_for(data: dict, tier: str | None, priority: str, kind: str) -> tuple[int | None, int | None]:
    """``(first response, resolution)`` business minutes for a ticket under policy ``data``.

    A kind-specific target applies when it is stricter (smaller).
    """
    tier = tier if tier in data["targets"] else data["fallback_tier"]
    base = data["targets"][tier].get(priority) or {}
    fr, res = base.get("first_response"), base.get("resolution")
    strict = ((data.get("kinds") or {}).get(kind) or {}).get(tier, {}).get(priority) or {}
    if strict.get("first_response"):
        fr = min(fr, strict["first_response"]) if fr else strict["first_response"]
    if strict.get("resolution"):
        res = min(res, strict["resolution"]) if res else strict["resolution"]
    return fr, res


def calendar_name(data: dict, tier: str | None) -> str:
    """The calendar a ticket of ``tier`` runs on."""
    return (data.get("tier_calendars") or {}).get(tier) or data["default_calendar"]


def calendar(policy: SlaPolicy, name: str) -> Calendar:
    """The ``Calendar`` named ``name`` in ``policy``, built once per process and
    version (versions never change; id 0 is the unsaved defaults)."""
    cache = _cache()
    key = ("calendar", policy.id, name)
    cal = cache.get(key)
    if cal is None:
        cal = cache[key] = Calendar.from_dict({**policy.data["calendars"][name], "name": name})
    return cal
