"""tier_sla's part of the demo: a year of sales for the demo customers, the
tiers computed from it, and supervisor overrides, so that ``make run``
shows computed tiers and overrides. With eight customers the percentage
bands put the top spender (C-0001) one tier below the top and everyone else in the
lowest; the override puts C-0001 at the top. C-0008 is a key account that
bought big every month until four months ago and then stopped (pinned to
the top too), and C-0006 returned two orders and had one cancelled lately:
what relationship_health's demo reads as a lapsed key customer and rising
returns.

The full demo (``load_customers`` before the tickets, ``load_history``
after them) gives every customer a year and a half of monthly sales with a
long tail (a few big buyers, many small ones, some none), so every tier of
the pyramid has customers; the tiers are computed at the start of the
period (the tickets of the half year are opened with them), and again at
its end as the nightly job would, the open tickets moved to the new tiers
and the SLA sweep run once."""
from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import select

from service import sdk

from .settings import tier_settings
from .sla import retier_job
from .sweep import sweep
from .tiers import recompute, set_override
from .transactions import add_transactions

# external_ref -> monthly spend in major units.
MONTHLY_SPEND = {"C-0001": 180_000, "C-0002": 95_000, "C-0003": 2_400, "C-0004": 1_100,
                 "C-0005": 800, "C-0006": 12_000, "C-0007": 300}
# C-0008 bought big every month from fifteen to four months ago, then stopped:
# a key account (pinned to the top tier like C-0001) gone quiet, which
# relationship_health's demo puts at risk. C-0006 returned two orders and
# had one cancelled in the last weeks (transaction types other than sale).
LAPSED, LAPSED_SPEND, LAPSED_MONTHS = "C-0008", 150_000, range(4, 16)
RETURNS = ("C-0006", ((40, "return", 9_800), (26, "return", 6_500), (12, "cancellation", 12_000)))


def _lapsed_and_returns(today: date, currency: str) -> list[dict]:
    """The lapsed key account's purchases and the returns (see above), as items for ``add_transactions``."""
    items = [{"customer_ref": LAPSED, "occurred_on": today - timedelta(days=30 * month + 5),
              "amount_minor": LAPSED_SPEND * 100, "margin_minor": LAPSED_SPEND * 25, "currency": currency,
              "reference": f"DEMO-{LAPSED}-LAPSED-{month:02d}"} for month in LAPSED_MONTHS]
    ref, returns = RETURNS
    items += [{"customer_ref": ref, "occurred_on": today - timedelta(days=days), "amount_minor": amount * 100,
               "margin_minor": 0, "currency": currency, "type": kind, "reference": f"DEMO-{ref}-{kind}-{days}"}
              for days, kind, amount in returns]
    return items


def _pin_key_accounts(top: str) -> None:
    """A supervisor pins C-0001 and the lapsed C-0008 to the top tier as key accounts."""
    supervisor = sdk.db.session.scalar(select(sdk.Staff).where(sdk.Staff.role == "supervisor").order_by(sdk.Staff.id))
    for ref in ("C-0001", LAPSED):
        key = sdk.db.session.scalar(select(sdk.Customer.id).where(sdk.Customer.external_ref == ref))
        if key is not None and supervisor is not None:
            set_override(key, top, "key account (demo)", None, supervisor)


def load() -> list[str]:
    """Insert twelve monthly transactions per demo customer (in ``TIER_CURRENCY``),
    recompute the tiers, and pin C-0001 to the top tier as a key account."""
    currency = tier_settings().currency
    today = sdk.utcnow().date()
    items = [{"customer_ref": ref, "occurred_on": today - timedelta(days=30 * m + 3),
              "amount_minor": spend * 100, "margin_minor": spend * 25, "currency": currency,
              "reference": f"DEMO-{ref}-{m:02d}"}
             for ref, spend in MONTHLY_SPEND.items() for m in range(12)]
    added = add_transactions(items + _lapsed_and_returns(today, currency))["created"]
    result = recompute()
    top = tier_settings().tiers[0]
    _pin_key_accounts(top)
    return [f"tier_sla: {added} transactions, tiers for {result['customers']} customers "
            f"(C-0001 and the lapsed C-0008 pinned to {top} by override)"]


MONTHS = 18


def _months_back(end: date, months: int) -> list[date]:
    """The 3rd of each of the ``months`` months up to ``end`` (newest first)."""
    out, year, month = [], end.year, end.month
    for _ in range(months):
        day = date(year, month, 3)
        if day <= end:
            out.append(day)
        year, month = (year - 1, 12) if month == 1 else (year, month - 1)
    return out


def load_customers(demo: sdk.DemoPeriod) -> list[str]:
    """Monthly sales for every customer (seeded), the tiers computed at the
    start of the period and C-0001 pinned to the top tier by a supervisor."""
    rng = demo.random("tier_sla")
    currency = tier_settings().currency
    months = _months_back(demo.end.date(), MONTHS)
    items = []
    for customer_id, ref, kind in sdk.db.session.execute(
            select(sdk.Customer.id, sdk.Customer.external_ref, sdk.Customer.kind).order_by(sdk.Customer.id)):
        spend = MONTHLY_SPEND.get(ref)
        if spend is None:
            if ref == LAPSED or rng.random() < 0.15:
                continue  # has bought nothing (or, C-0008, only long ago: below)
            spend = round(rng.lognormvariate(9.5 if kind == "company" else 6.5, 1.3))
        for n, day in enumerate(months):
            if rng.random() < 0.8:  # not every month
                amount = max(1, round(spend * rng.uniform(0.6, 1.4))) * 100
                items.append({"customer_id": customer_id, "occurred_on": day, "amount_minor": amount,
                              "margin_minor": amount // 4, "currency": currency, "reference": f"DEMO-{ref}-{n:02d}"})
    added = add_transactions(items + _lapsed_and_returns(demo.end.date(), currency))["created"]
    top = tier_settings().tiers[0]
    with demo.at(demo.start):
        result = recompute()
        _pin_key_accounts(top)
    return [f"tier_sla: {added} transactions, tiers for {result['customers']} customers at "
            f"{demo.start:%Y-%m-%d} (C-0001 and the lapsed C-0008 pinned to {top} by override)"]


def load_history(demo: sdk.DemoPeriod) -> list[str]:
    """The nightly recompute at the end of the period, the open tickets moved
    to their customers' new tiers (the job it queues, run here), and one SLA
    sweep (clocks for tickets never touched, the warnings and breaches of
    the open ones)."""
    with demo.at(demo.end):
        result = recompute()
        moved = retier_job(changed_at=demo.end.isoformat()) if result["changed"] else {}
        swept = sweep(limit=100_000)
    return [f"tier_sla: tiers recomputed at {demo.end:%Y-%m-%d} ({result['changed']} changed, "
            f"{moved.get('retargeted', 0)} open tickets re-targeted); SLA sweep: {swept['steps']} escalation steps"]
