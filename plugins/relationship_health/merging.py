"""relationship_health's part of merging two customer records
(``merging_customers``): nothing of the duplicate's is lost.

* its level changes and contact changes move to the kept record (the
  history reads as one customer's);
* its owner's notices move (they still name the customer as it was called);
* its account owner moves when the kept record has none; when both have
  one, the kept record's stays (the supervisor named them for this record);
* its care state moves when the kept record has none, else the later of
  the two care tickets is kept as the last one (the cool-down counts from it);
* its health row is dropped: the next recompute rates the kept record on
  the transactions and tickets of both (which the core and tier_sla moved).
"""
from __future__ import annotations

from sqlalchemy import delete, update

from service import sdk
from service.sdk import gettext as _

from .care_models import AccountOwner, CareState, OwnerNotice
from .models import ContactChange, CustomerHealth, HealthChange


def _move(model, kept_id: int, merged_id: int) -> int:
    return sdk.db.session.execute(update(model).where(model.customer_id == merged_id).values(customer_id=kept_id)
                                  .execution_options(synchronize_session=False)).rowcount


def _move_one(model, kept_id: int, merged_id: int, keep_later=None) -> int:
    """A one-per-customer row: moved when the kept record has none; else the
    duplicate's is dropped (after ``keep_later`` copied what should win)."""
    session = sdk.db.session
    theirs = session.get(model, merged_id)
    if theirs is None:
        return 0
    mine = session.get(model, kept_id)
    if mine is None:
        return _move(model, kept_id, merged_id)
    if keep_later is not None:
        keep_later(mine, theirs)
    session.execute(delete(model).where(model.customer_id == merged_id).execution_options(synchronize_session=False))
    return 0


def _later_care(mine: CareState, theirs: CareState) -> None:
    later = mine.last_opened_at is None or (theirs.last_opened_at is not None
                                            and theirs.last_opened_at > mine.last_opened_at)
    if theirs.last_opened_at is not None and later:
        mine.last_ticket_id, mine.last_opened_at = theirs.last_ticket_id, theirs.last_opened_at


def merge(kept, merged) -> list[sdk.MergeMoved]:
    """Move the duplicate's rows to the kept record (see the module doc);
    answer the counts moved. Inside the merge's transaction; never commits."""
    moved_history = _move(HealthChange, kept.id, merged.id) + _move(ContactChange, kept.id, merged.id)
    notices = _move(OwnerNotice, kept.id, merged.id)
    owner = _move_one(AccountOwner, kept.id, merged.id)
    _move_one(CareState, kept.id, merged.id, _later_care)
    sdk.db.session.execute(delete(CustomerHealth).where(CustomerHealth.customer_id == merged.id)
                           .execution_options(synchronize_session=False))
    out: list[sdk.MergeMoved] = []
    if moved_history:
        out.append({"key": "health_history", "label": _("Health history"), "count": moved_history})
    if notices:
        out.append({"key": "owner_notices", "label": _("Account owner's notices"), "count": notices})
    if owner:
        out.append({"key": "account_owner", "label": _("Account owner"), "count": owner})
    return out

