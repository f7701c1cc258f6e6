"""Merging two customer records keeps relationship_health's rows: the
duplicate's level history, contact changes, owner's notices, account owner
(when the kept record has none) and care state move; its health row goes,
and the next recompute rates the kept record on both records' data."""
from __future__ import annotations

import sqlalchemy as sa
from healthparts import changes, customer, health, recompute, sales

from plugins.relationship_health.care_models import AccountOwner, CareState, OwnerNotice
from plugins.relationship_health.models import CustomerHealth
from service.extensions import db
from service.models.base import utcnow


def _owner(client, headers, cid, staff):
    assert client.put(f"/api/v1/customers/{cid}/owner", headers=headers, json={"staff_id": staff.id}).status_code == 200


def test_the_duplicates_health_history_owner_and_notices_move(client, make_staff):
    owner, _ = make_staff("agent")
    _s, supervisor = make_staff("supervisor")
    kept, dup = customer("Li Lei"), customer("LI LEI (phone)")
    sales(dup, [400, 370, 340, 310])  # bought monthly a year ago, then stopped: at risk
    recompute()
    assert health(dup).level == "at_risk" and changes(dup)
    _owner(client, supervisor, dup, owner)
    db.session.add(OwnerNotice(key="test:1", staff_id=owner.id, customer_id=dup, kind="health_changed",
                               params={"customer": "LI LEI (phone)"}, created_at=utcnow()))
    db.session.add(CareState(customer_id=dup, last_opened_at=utcnow()))
    db.session.commit()
    history = len(changes(dup))

    done = client.post(f"/api/v1/customers/{kept}/merge", headers=supervisor, json={"from_customer_id": dup})
    assert done.status_code == 200, done.json
    moved = {m["key"]: (m["label"], m["count"]) for m in done.json["moved"]}
    assert moved["health_history"] == ("Health history", history)
    assert moved["owner_notices"][1] == 1 and moved["account_owner"][1] == 1
    db.session.expire_all()
    assert db.session.get(AccountOwner, kept).staff_id == owner.id and db.session.get(AccountOwner, dup) is None
    assert db.session.scalar(sa.select(OwnerNotice.customer_id).where(OwnerNotice.key == "test:1")) == kept
    assert db.session.get(CareState, kept) is not None and db.session.get(CareState, dup) is None
    assert changes(dup) == [] and len(changes(kept)) == history
    assert db.session.get(CustomerHealth, dup) is None
    recompute()  # the kept record now has the duplicate's purchases (moved by tier_sla): at risk
    assert health(kept).level == "at_risk" and db.session.get(CustomerHealth, dup) is None


def test_the_kept_records_owner_stays_when_both_have_one(client, make_staff):
    mine, _ = make_staff("agent")
    theirs, _ = make_staff("agent")
    _s, supervisor = make_staff("supervisor")
    kept, dup = customer("Wang Fang"), customer("Wang F.")
    _owner(client, supervisor, kept, mine)
    _owner(client, supervisor, dup, theirs)
    done = client.post(f"/api/v1/customers/{kept}/merge", headers=supervisor, json={"from_customer_id": dup})
    assert done.status_code == 200, done.json
    assert "account_owner" not in {m["key"] for m in done.json["moved"]}
    db.session.expire_all()
    assert db.session.get(AccountOwner, kept).staff_id == mine.id and db.session.get(AccountOwner, dup) is None
