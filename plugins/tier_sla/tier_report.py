"""The Pareto report (``GET /api/v1/reports/tiers``): per tier, the number of
customers and their share of revenue, so the 80/20 pattern can be checked."""
from __future__ import annotations

from sqlalchemy import bindparam, func, select, text

from service import sdk

from .models import CustomerTier
from .settings import tier_settings
from .tiers import money


def _share(part: int, whole: int) -> float:
    return round(part / whole, 4) if whole > 0 else 0.0


def report(effective: bool = False) -> dict:
    """Per computed tier (top first): customers and their share, revenue and
    its share, and both running totals, so the 80/20 pattern can be checked.

    With ``effective`` each customer counts in their effective tier (a
    supervisor's override while it lasts, else the computed tier): the tier
    the ``customer_tier`` decider gives, so the tier tickets are tagged with.

    Revenue is each customer's value from the last recompute counted only
    when positive. Customers added since (no tier row) count in the lowest
    tier with no revenue. Tiers of another method (before a recompute after
    a method change) are listed after the current ones.
    """
    s, now = tier_settings(), sdk.utcnow()
    tier = ("CASE WHEN ct.override_tier IS NOT NULL AND (ct.override_until IS NULL OR ct.override_until > :now) "
            "THEN ct.override_tier ELSE COALESCE(ct.computed_tier, :lowest) END" if effective
            else "COALESCE(ct.computed_tier, :lowest)")
    stmt = text(f"SELECT {tier} AS tier, COUNT(*) AS customers, "
                "COALESCE(SUM(CASE WHEN ct.value_minor > 0 THEN ct.value_minor ELSE 0 END), 0) AS revenue "
                "FROM customers c LEFT JOIN customer_tiers ct ON ct.customer_id = c.id GROUP BY 1")
    params = {"lowest": s.lowest}
    if effective:  # times are stored as naive UTC: bind ``now`` as the models do
        stmt, params["now"] = stmt.bindparams(bindparam("now", type_=sdk.UTCDateTime())), now
    rows = sdk.db.session.execute(stmt, params).all()
    found = {r.tier: (int(r.customers), int(r.revenue)) for r in rows}
    order = list(s.tiers) + sorted(set(found) - set(s.tiers))
    customers = sum(c for c, _ in found.values())
    revenue = sum(r for _, r in found.values())
    computed_at = sdk.db.session.scalar(select(func.max(CustomerTier.computed_at)))
    overrides = sdk.db.session.scalar(select(func.count()).select_from(CustomerTier).where(
        CustomerTier.override_tier.is_not(None),
        (CustomerTier.override_until.is_(None)) | (CustomerTier.override_until > now)))
    first, last = s.period((computed_at or now).date())
    out, run_c, run_r = [], 0, 0
    for tier in order:
        count, value = found.get(tier, (0, 0))
        run_c, run_r = run_c + count, run_r + value
        out.append({"tier": tier, "customers": count, "customer_share": _share(count, customers),
                    "revenue": money(value), "revenue_minor": value, "revenue_share": _share(value, revenue),
                    "cumulative_customer_share": _share(run_c, customers),
                    "cumulative_revenue_share": _share(run_r, revenue)})
    return {"method": s.method, "measure": s.measure, "currency": s.currency, "computed_at": computed_at,
            "period": {"from": first, "to": last, "days": s.period_days}, "active_overrides": overrides,
            "totals": {"customers": customers, "revenue": money(revenue), "revenue_minor": revenue},
            "tiers": out}
