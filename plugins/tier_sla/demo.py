"""tier_sla's part of the demo: a year of sales for the demo customers, the
tiers computed from it, and one supervisor override, so that ``make run``
shows computed tiers and an override. With eight customers the percentage
bands put the top spender (C-0001) one tier below the top and everyone else in the
lowest; the override puts C-0001 at the top."""
from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from service import sdk

from .settings import tier_settings
from .tiers import recompute, set_override
from .transactions import add_transactions

# external_ref -> monthly spend in major units; C-0008 has bought nothing (lowest tier).
MONTHLY_SPEND = {"C-0001": 180_000, "C-0002": 95_000, "C-0003": 2_400, "C-0004": 1_100,
                 "C-0005": 800, "C-0006": 12_000, "C-0007": 300}


def load() -> list[str]:
    """Insert twelve monthly transactions per demo customer (in ``TIER_CURRENCY``),
    recompute the tiers, and pin C-0001 to the top tier as a key account."""
    currency = tier_settings().currency
    today = sdk.utcnow().date()
    items = [{"customer_ref": ref, "occurred_on": today - timedelta(days=30 * m + 3),
              "amount_minor": spend * 100, "margin_minor": spend * 25, "currency": currency,
              "reference": f"DEMO-{ref}-{m:02d}"}
             for ref, spend in MONTHLY_SPEND.items() for m in range(12)]
    added = add_transactions(items)["created"]
    result = recompute()
    top = tier_settings().tiers[0]
    key = sdk.db.session.scalar(select(sdk.Customer.id).where(sdk.Customer.external_ref == "C-0001"))
    supervisor = sdk.db.session.scalar(select(sdk.Staff).where(sdk.Staff.role == "supervisor").order_by(sdk.Staff.id))
    if key is not None and supervisor is not None:
        set_override(key, top, "key account (demo)", None, supervisor)
    return [f"tier_sla: {added} transactions, tiers for {result['customers']} customers "
            f"(C-0001 pinned to {top} by override)"]
