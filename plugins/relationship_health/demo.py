"""relationship_health's part of ``kefu demo``: customers in every level for
reasons a reader can follow, an account owner, and one open care ticket.

After the other plugins' history (``trylast``), on both sizes of the demo:

* **a lapsed key customer**: Lucas Martin (``C-0008``), whom tier_sla's
  demo makes a key account that bought every month until four months ago
  and then stopped: the silence and the revenue fall put him at risk. The
  demo agent becomes his account owner, so proactive care opens a care
  ticket for that owner;
* **a customer whose returns doubled**: 上海星辰物流 (``C-0006``), who
  returned two orders and had one cancelled lately (tier_sla's demo) and
  complains about them twice here: returns share and complaints make them
  *watch*;
* **a complainer**: 王芳 (``C-0003``) files three complaints in a fortnight,
  the oldest still open past its resolution target: *at risk*, but not a
  key customer, so no care ticket - the at-risk list shows her all the same.

Everyone else is as the rest of the demo made them (mostly healthy). The
health is recomputed at the real time, as the periodic job would; the
care ticket is opened here rather than by its job, since the demo's jobs
are dropped (``service.demo``).
"""
from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select

from service import sdk

from .models import CustomerHealth

LAPSED, RETURNS, COMPLAINER = "C-0008", "C-0006", "C-0003"


def _customer(ref: str):
    return sdk.db.session.scalar(select(sdk.Customer).where(sdk.Customer.external_ref == ref))


def _staff(role: str):
    return sdk.db.session.scalar(select(sdk.Staff).where(sdk.Staff.role == role, sdk.Staff.active.is_(True))
                                 .order_by(sdk.Staff.id))


def _complaints(demo, customer, subjects: list[tuple[int, str, str]]) -> int:
    """Open ``subjects`` (days ago, subject, description) as phone complaints
    of ``customer`` at those times, as the front line would."""
    agent = _staff("agent")
    category = sdk.db.session.scalar(select(sdk.Category.code).where(sdk.Category.active.is_(True))
                                     .order_by(sdk.Category.id))
    if agent is None or category is None:
        return 0
    now = sdk.utcnow()
    for days, subject, description in subjects:
        with demo.at(now - timedelta(days=days)):
            sdk.open_ticket({"customer_id": customer.id, "category": category, "kind": "complaint",
                             "priority": "normal", "subject": subject, "description": description},
                            sdk.Actor.staff(agent), "phone")
    return len(subjects)


def load(demo: sdk.DemoPeriod) -> list[str]:
    """The three readable cases, the recompute, the owner and the care ticket; summary lines."""
    from .care import care_job
    from .owners import set_owner
    from .recompute import recompute

    lapsed, returns, complainer = _customer(LAPSED), _customer(RETURNS), _customer(COMPLAINER)
    if lapsed is None or returns is None or complainer is None:
        return ["relationship_health: the demo's customers C-0003, C-0006 and C-0008 are missing; nothing added"]
    opened = _complaints(demo, returns, [(2, "退货的货架有裂纹", "第二批货架又有裂纹，已经退了两次。"),
                                         (1, "取消的订单仍然扣款", "订单取消了，但是货款还没有退回。")])
    opened += _complaints(demo, complainer, [(14, "热水器漏水", "安装后第二天就开始漏水。"),
                                             (9, "维修师傅没有按时上门", "约好上午十点，等到下午也没来。"),
                                             (3, "热水器还是漏水", "修过一次，还是漏水，很失望。")])
    owner = _staff("agent")
    supervisor = _staff("supervisor")
    if owner is not None and supervisor is not None:
        set_owner(lapsed.id, owner.id, supervisor)
    result = recompute()
    care = care_job(lapsed.id)
    levels = dict(sdk.db.session.execute(select(CustomerHealth.level, func.count()).group_by(CustomerHealth.level))
                  .all())
    return [f"relationship_health: {opened} complaints for three readable cases; "
            f"health recomputed for {result['customers']} customers ({levels.get('at_risk', 0)} at risk, "
            f"{levels.get('watch', 0)} to watch, {levels.get('healthy', 0)} healthy); care for {LAPSED}: {care}"]

