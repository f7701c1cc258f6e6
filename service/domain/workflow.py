"""The ticket workflow: statuses, the transition table and its guards.

Pure Python, no Flask or database: the use cases in ``service.usecases.tickets`` ask
this module whether an action is allowed and what it needs, then apply it.

listen -> confirm -> handle -> feed back (DOMAIN.md, 002):

    new --confirm--> confirmed --start--> in_progress --resolve--> resolved --close--> closed
                                          in_progress <--wait/start--> waiting_on_customer
                                          resolved --reopen--> in_progress  (customer rejects)
    any open status --cancel--> cancelled  (duplicate or spam; supervisor)
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

# Staff roles, ordered: each role may do everything the roles before it may.
ROLES = ("agent", "supervisor", "admin")
# The finance role is beside the ladder, not a rung of it: finance staff read
# tickets and customers, see credit data and approve remedies routed to
# finance, but take no workflow action. Admins may do whatever finance may.
FINANCE = "finance"
STAFF_ROLES = ROLES + (FINANCE,)

STATUSES = ("new", "confirmed", "in_progress", "waiting_on_customer", "resolved", "closed", "cancelled")
OPEN_STATUSES = ("new", "confirmed", "in_progress", "waiting_on_customer")
FINAL_STATUSES = ("closed", "cancelled")

# The four steps the customer sees on the tracking page, by status.
STEP_OF_STATUS = {
    "new": "listen",
    "confirmed": "confirm",
    "in_progress": "handle",
    "waiting_on_customer": "handle",
    "resolved": "feed_back",
    "closed": "feed_back",
    "cancelled": "feed_back",
}

# The timestamp column each target status stamps.
STAMP_OF_STATUS = {
    "confirmed": "confirmed_at",
    "resolved": "resolved_at",
    "closed": "closed_at",
    "cancelled": "cancelled_at",
    "waiting_on_customer": "waiting_since",
}


@dataclass(frozen=True)
class Transition:
    """One row of the table: ``action`` moves a ticket from any of ``sources``
    to ``target``. ``requires`` names fields that must be non-blank;
    ``min_role`` is the lowest staff role allowed (customers and the system act
    through their own use cases, which name ``actor="customer"|"system"``)."""

    action: str
    sources: tuple[str, ...]
    target: str
    requires: tuple[str, ...] = ()
    min_role: str = "agent"
    actors: tuple[str, ...] = ("staff",)


TRANSITIONS: dict[str, Transition] = {
    t.action: t
    for t in (
        Transition("confirm", ("new",), "confirmed", requires=("department",)),
        Transition("start", ("confirmed", "waiting_on_customer"), "in_progress"),
        Transition("wait", ("in_progress",), "waiting_on_customer"),
        Transition("resolve", ("in_progress", "waiting_on_customer"), "resolved", requires=("resolution",)),
        Transition("reopen", ("resolved",), "in_progress", requires=("reason",), actors=("staff", "customer")),
        Transition("close", ("resolved",), "closed", actors=("staff", "customer", "system")),
        Transition("cancel", OPEN_STATUSES, "cancelled", requires=("reason",), min_role="supervisor"),
        # A customer's reply while we wait on them hands the ticket back to us.
        Transition("customer_reply", ("waiting_on_customer",), "in_progress", actors=("customer",)),
    )
}

# Actions a client may name in POST .../transitions.
STAFF_ACTIONS = ("confirm", "start", "wait", "resolve", "reopen", "close", "cancel")


class IllegalTransition(Exception):
    """The action is not allowed from the ticket's current status (HTTP 409)."""

    def __init__(self, action: str, status: str, allowed: list[str]):
        self.action, self.status, self.allowed = action, status, allowed
        super().__init__(
            f"cannot {action} a ticket that is {status}; allowed: {', '.join(allowed) or 'none'}"
        )


class MissingFields(Exception):
    """Fields the transition needs are missing (HTTP 422), by field name."""

    def __init__(self, fields: dict[str, list[str]]):
        self.fields = fields
        super().__init__("missing fields: " + ", ".join(sorted(fields)))


def allowed_actions(status: str, actor: str = "staff", role: str | None = "admin") -> list[str]:
    """The actions ``actor`` (with staff ``role``) may take from ``status``, in table order.

    A plugin acts as staff, with the role it is given (admin when none).
    """
    if actor == "plugin":
        actor, role = "staff", role or "admin"
    out = []
    for t in TRANSITIONS.values():
        if status not in t.sources or actor not in t.actors:
            continue
        if actor == "staff" and (role not in ROLES or ROLES.index(role) < ROLES.index(t.min_role)):
            continue
        out.append(t.action)
    return out


def check(action: str, status: str, values: dict, actor: str = "staff", role: str | None = "admin") -> Transition:
    """Return the transition for ``action`` from ``status`` or raise.

    Raises ``IllegalTransition`` when the action is unknown, not allowed from
    this status, or not allowed for this actor/role; ``MissingFields`` when a
    required value is blank. ``values`` maps field name to the given value.
    """
    t = TRANSITIONS.get(action)
    if t is None or action not in allowed_actions(status, actor, role):
        raise IllegalTransition(action, status, allowed_actions(status, actor, role))
    missing = {
        name: [f"required to {action}"]
        for name in t.requires
        if values.get(name) is None or (isinstance(values.get(name), str) and not values[name].strip())
    }
    if missing:
        raise MissingFields(missing)
    return t


def reopen_is_late(resolved_at: datetime, now: datetime, window_days: int) -> bool:
    """True when a rejection comes after the reopen window: open a follow-up instead."""
    return now - resolved_at > timedelta(days=window_days)


def auto_close_due(status: str, resolved_at: datetime | None, now: datetime, days: int) -> bool:
    """True when a resolved ticket has waited ``days`` for the customer's answer."""
    return status == "resolved" and resolved_at is not None and now - resolved_at >= timedelta(days=days)
