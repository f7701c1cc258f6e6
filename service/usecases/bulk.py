"""Bulk actions on a queue selection: one change applied to many tickets,
each through its normal use case.

Every ticket is its own transaction (``tickets.update_ticket`` or
``tickets.transition``, each a ``UnitOfWork``): its own version check, the
workflow's rules and the plugins' guards apply to it exactly as if it were
changed alone, and one ticket's refusal leaves the others going. The answer
says, per ticket, whether it was changed or why not (the error itself, for
the caller to word: the console in the page's language, the API as its
usual error body).
"""
from __future__ import annotations

from dataclasses import dataclass

from service.domain.actors import Actor
from service.domain.errors import KefuError, ValidationFailed
from service.domain.workflow import STAFF_ACTIONS, IllegalTransition, MissingFields
from service.models import PRIORITIES
from service.usecases import tickets

# Field edits a selection may get, by the field they set.
EDITS = ("assignee", "priority", "department", "category")
MAX_TICKETS = 200  # a page of the queue at most, with room to spare


@dataclass(frozen=True)
class BulkItem:
    """One selected ticket: its number and the version the selection saw."""

    number: str
    version: int | None


@dataclass
class BulkOutcome:
    """What became of one ticket: ``done``, or the ``error`` that refused it
    (``StaleVersion``, ``IllegalTransition``, ``MissingFields``, ``Refused``
    by a plugin's guard, ``NotFound``, ...). ``followup`` is the number of a
    follow-up a late reopen opened instead."""

    number: str
    done: bool
    error: Exception | None = None
    followup: str | None = None


def parse_items(values: list[str]) -> list[BulkItem]:
    """``["KF-000001:3", ...]`` (number and version, as the queue's checkboxes
    send them) as items, each once. A value without a readable version
    keeps its number with version None (the use case then refuses it as
    stale); 422 naming ``tickets`` when there is none or more than
    ``MAX_TICKETS``."""
    items: dict[str, BulkItem] = {}
    for value in values:
        number, _sep, version = str(value).strip().partition(":")
        if not number:
            continue
        items.setdefault(number, BulkItem(number[:30], int(version) if version.isdigit()
                                          and int(version) < 2**31 else None))
    if not items:
        raise ValidationFailed("select at least one ticket", {"tickets": ["select at least one ticket"]})
    if len(items) > MAX_TICKETS:
        raise ValidationFailed("too many tickets", {"tickets": [f"at most {MAX_TICKETS} at once"]})
    return list(items.values())


def check_operation(operation: str, values: dict) -> None:
    """422 naming the field when ``operation`` (an edit of ``EDITS`` or a
    step of ``STAFF_ACTIONS``) or its value cannot be applied to any ticket;
    what depends on each ticket (its status, version, the guards) is left to
    each ticket's own use case."""
    if operation not in EDITS and operation not in STAFF_ACTIONS:
        raise ValidationFailed(f"unknown bulk action {operation!r}", {"action": ["Not one of the choices."]})
    if operation == "priority" and values.get("priority") not in PRIORITIES:
        raise ValidationFailed("choose a priority", {"priority": ["Not one of the choices."]})
    if operation in ("category", "department") and not values.get(operation):
        raise ValidationFailed(f"choose a {operation}", {operation: ["required"]})


def apply_to_each(items: list[BulkItem], operation: str, values: dict, actor: Actor) -> list[BulkOutcome]:
    """Apply ``operation`` to every ticket of ``items``, each in its own
    transaction, in the given order; return one outcome per item.

    ``operation``: ``assignee`` (``values["assignee"]``: a staff id, or None
    to unassign), ``priority``, ``department``, ``category`` (codes in
    ``values``), or a workflow step (``confirm``, ``resolve``, ...) with the
    fields it needs in ``values`` (``department``, ``resolution``,
    ``reason``). Raises only for an operation no ticket could take
    (``check_operation``); every per-ticket error is caught into its outcome.
    """
    check_operation(operation, values)
    outcomes = []
    for item in items:
        try:
            if operation in EDITS:
                tickets.update_ticket(item.number, item.version, {operation: values.get(operation)}, actor)
                followup = None
            else:
                step = {k: values.get(k) for k in ("department", "resolution", "reason") if values.get(k)}
                _ticket, followup = tickets.transition(item.number, operation, item.version, step, actor)
        except (KefuError, IllegalTransition, MissingFields) as exc:
            outcomes.append(BulkOutcome(item.number, False, exc))
        else:
            outcomes.append(BulkOutcome(item.number, True, followup=followup.number if followup else None))
    return outcomes
