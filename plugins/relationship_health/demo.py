"""relationship_health's part of ``kefu demo``: customers in every level for
reasons a reader can follow, an account owner, and one open care ticket.

After the other plugins' history (``trylast``), on both sizes of the demo:

* **a lapsed key customer**: Lucas Martin (``C-0008``, who had bought
  nothing) bought every month from fifteen to four months ago and then
  stopped: the silence and the revenue fall put him at risk. A supervisor
  pins him to the top tier as a key account and names the demo agent his
  account owner, so proactive care opens a care ticket for that owner;
* **a customer whose returns doubled**: 上海星辰物流 (``C-0006``) returned
  or cancelled three orders in the last weeks and complained twice about
  them: returns share and complaints make them *watch*;
* **a complainer**: 王芳 (``C-0003``) filed three complaints in a fortnight,
  the oldest still open past its resolution target: *at risk*, but not a
  key customer, so no care ticket - the at-risk list shows her all the same.

Everyone else is as the rest of the demo made them (mostly healthy). The
health is recomputed at the real time, as the periodic job would; the
care ticket is opened here rather than by its job, since the demo's jobs
are dropped (``service.demo``). Needs tier_sla (transactions, tiers); the
cases that need it are left out without it.
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


def _tier_plugin() -> bool:
    try:
        sdk.plugin_settings("tier_sla")
    except KeyError:
        return False
    return True


def _sales(lapsed, returns, today) -> int:
    """The lapsed customer's monthly purchases (15 to 4 months ago) and the
    returns customer's returns and cancellation of the last weeks, through
    tier_sla's import; then the tiers again, and the lapsed one pinned to
    the top as a key account. Returns the transactions added."""
    from plugins.tier_sla.settings import tier_settings
    from plugins.tier_sla.tiers import recompute as recompute_tiers
    from plugins.tier_sla.tiers import set_override
    from plugins.tier_sla.transactions import add_transactions

    currency = tier_settings().currency
    items = [{"customer_id": lapsed.id, "occurred_on": today - timedelta(days=30 * month + 5),
              "amount_minor": 150_000_00, "margin_minor": 37_500_00, "currency": currency,
              "reference": f"DEMO-HEALTH-{LAPSED}-{month:02d}"} for month in range(4, 16)]
    items += [{"customer_id": returns.id, "occurred_on": today - timedelta(days=days), "amount_minor": amount,
               "margin_minor": 0, "currency": currency, "type": kind,
               "reference": f"DEMO-HEALTH-{RETURNS}-{kind}-{days}"}
              for days, kind, amount in ((40, "return", 9_800_00), (26, "return", 6_500_00),
                                         (12, "cancellation", 12_000_00))]
    added = add_transactions(items)["created"]
    recompute_tiers()
    supervisor = _staff("supervisor")
    if supervisor is not None:
        set_override(lapsed.id, tier_settings().tiers[0], "key account (demo)", None, supervisor)
    return added


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
    added = _sales(lapsed, returns, sdk.utcnow().date()) if _tier_plugin() else 0
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
    return [f"relationship_health: {added} transactions and {opened} complaints for three readable cases; "
            f"health recomputed for {result['customers']} customers ({levels.get('at_risk', 0)} at risk, "
            f"{levels.get('watch', 0)} to watch, {levels.get('healthy', 0)} healthy); care for {LAPSED}: {care}"]

