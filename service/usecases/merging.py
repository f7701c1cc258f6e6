"""Merging two customer records of the same person (a duplicate into the kept one).

One transaction moves everything: the core's rows (tickets, customer notes),
then each plugin's (the ``merging_customers`` step hook: surveys,
transactions, credit ratings, a tier override...). A plugin that raises
rolls the whole merge back: a half-merged customer (tickets here, surveys
there) would be worse than none, so the hook is a step inside the
transaction, not a notification after it.

The merged record is not deleted: it stays, marked ``merged_into_id`` (and
``merged_at``), so that old links, ids in other systems and the API still
resolve to the kept record; lists leave it out, and it cannot be merged
again nor take a merge. Each moved ticket's history gets a
``customer_merged`` event, and after the commit ``ticket_updated`` fires for
it with ``changes={"customer": [merged id, kept id]}`` (webhooks publish it
as ``ticket.updated``); the kept customer's profile lists the records
merged into it.

``preview`` runs the same merge and rolls it back, so the confirmation page
shows exactly what the merge would move.
"""
from __future__ import annotations

from sqlalchemy import func, select, update

from service.domain.actors import Actor
from service.domain.errors import Conflict
from service.extensions import db
from service.hooks import plugins
from service.hooks.manager import PluginCallError
from service.hooks.types import MergeMoved, check
from service.models import Customer, CustomerNote, Ticket
from service.models.base import utcnow
from service.reads.lookup import customer_by_id
from service.translate import gettext as _
from service.usecases import history
from service.usecases.uow import UnitOfWork


def _check_moved(item) -> None:
    check(item, MergeMoved)
    if not isinstance(item["count"], int) or item["count"] < 0:
        raise ValueError("merging_customers: count must be a whole number, 0 or more")


def _load_pair(kept_id: int, merged_id: int) -> tuple[Customer, Customer]:
    """Both records, locked on PostgreSQL against a concurrent merge; 404 for
    an unknown one, 409 for a record into itself or a merged record."""
    if kept_id == merged_id:
        raise Conflict("a customer cannot be merged into itself",
                       {"from_customer_id": ["the same customer as the one kept"]}, code="merge_into_itself")
    kept, merged = customer_by_id(kept_id), customer_by_id(merged_id, field=None)
    rows = db.session.execute(select(Customer.id, Customer.merged_into_id)
                              .where(Customer.id.in_((kept.id, merged.id))).with_for_update()).all()
    into = {row.id: row.merged_into_id for row in rows}
    if into.get(kept.id) is not None:
        raise Conflict("the customer kept was itself merged into another record",
                       {"id": [f"merged into customer {into[kept.id]}"]}, code="customer_merged")
    if into.get(merged.id) is not None:
        raise Conflict("that customer was already merged into another record",
                       {"from_customer_id": [f"merged into customer {into[merged.id]}"]}, code="customer_merged")
    return kept, merged


def _move_core_rows(kept: Customer, merged: Customer, actor: Actor) -> list[dict]:
    tickets = db.session.scalars(select(Ticket).where(Ticket.customer_id == merged.id)
                                 .order_by(Ticket.id)).unique().all()
    if tickets:
        # Bulk, with the version raised: an edit begun before the merge meets
        # a stale version instead of writing over it.
        db.session.execute(update(Ticket).where(Ticket.id.in_([t.id for t in tickets]))
                           .values(customer_id=kept.id, version=Ticket.version + 1)
                           .execution_options(synchronize_session=False))
        with UnitOfWork() as uow:  # the merge's own unit: told only if it commits
            for ticket in tickets:
                history.record(ticket, actor, "customer_merged", from_customer=merged.id, to_customer=kept.id)
                # The objects still hold the old customer and version (the update was bulk).
                db.session.expire(ticket, ["customer_id", "customer", "version"])
                # Plugins and webhooks learn that the ticket changed customer (an SLA
                # plugin may re-target it: the kept record's tier may differ).
                uow.emit("ticket_updated", ticket=ticket, changes={"customer": [merged.id, kept.id]}, actor=actor)
    notes = db.session.scalar(select(func.count()).select_from(CustomerNote)
                              .where(CustomerNote.customer_id == merged.id))
    if notes:
        db.session.execute(update(CustomerNote).where(CustomerNote.customer_id == merged.id)
                           .values(customer_id=kept.id).execution_options(synchronize_session=False))
    return [{"key": "tickets", "label": _("Tickets"), "count": len(tickets), "plugin": None},
            {"key": "notes", "label": _("Notes"), "count": notes, "plugin": None}]


def _merge(kept_id: int, merged_id: int, actor: Actor) -> tuple[Customer, Customer, list[dict]]:
    kept, merged = _load_pair(kept_id, merged_id)
    moved = _move_core_rows(kept, merged, actor)
    try:
        answers = plugins().step("merging_customers", check_item=_check_moved, kept=kept, merged=merged,
                                 actor=actor)
    except PluginCallError as exc:
        raise Conflict(f"plugin {exc.plugin} could not move its records; nothing was merged",
                       code="plugin_failed", plugin=exc.plugin) from exc
    moved += [{**item, "plugin": plugin} for plugin, item in answers]
    merged.merged_into_id, merged.merged_at = kept.id, utcnow()
    db.session.flush()
    return kept, merged, moved


def merge_customers(kept_id: int, merged_id: int, actor: Actor) -> tuple[Customer, list[dict]]:
    """Merge customer ``merged_id`` into ``kept_id``; return the kept customer
    and what moved: ``[{"key", "label", "count", "plugin"}]`` (the core's
    tickets and notes first, ``plugin`` None for them).

    404 for an unknown customer; 409 (``merge_into_itself``) for the same
    id twice, (``customer_merged``) when either was already merged, and
    (``plugin_failed``) when a plugin's part raised: nothing is written then.
    Roles are the caller's to check (supervisors and admins).
    """
    with UnitOfWork() as uow:
        kept, _merged, moved = _merge(kept_id, merged_id, actor)
        uow.commit()
    return kept, moved


def preview_merge(kept_id: int, merged_id: int, actor: Actor) -> list[dict]:
    """What ``merge_customers`` would move, as it answers, with nothing
    written: the same merge, rolled back. The same errors."""
    with UnitOfWork():
        _kept, _merged, moved = _merge(kept_id, merged_id, actor)
        return [dict(item) for item in moved]  # leaving without commit rolls it back
