"""Hand-worked health data for the report, the pages and the dashboard of
relationship_health (tests/relationship_health, tests/browser): customers
with tiers and values (as tier_sla stores them), health rows and level
changes at known times, written directly.

=========  =====  ============  ========  =====  ==============================================
customer   tier   value         level     score  level changes (UTC, at noon)
=========  =====  ============  ========  =====  ==============================================
Anhui      vip    5000.00       at_risk   70     03-10 none -> watch, 04-05 watch -> at_risk
Beijing    major  2000.00       at_risk   55     04-20 none -> at_risk
Chengdu    vip    3000.00       watch     30     03-10 none -> at_risk, 05-02 at_risk -> watch
Dalian     small  0 (-50.00)    healthy   0      none
Emei       none   (lowest: 0)   at_risk   55     05-15 none -> at_risk
Fuzhou     vip    9000.00       at_risk   90     merged into Anhui: counted nowhere
Guilin     ordin. 100.00        none      -      none (never computed)
=========  =====  ============  ========  =====  ==============================================

All in 2026. Scores are made of the shipped signals (recency 30,
complaints 20, satisfaction 20, sla_overdue 15, returns 15).
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone

from plugins.relationship_health.models import CustomerHealth, HealthChange
from plugins.tier_sla.models import CustomerTier
from service.extensions import db
from service.models import Customer

COMPUTED = datetime(2026, 5, 20, 3, 0, tzinfo=timezone.utc)


def noon(month: int, day: int) -> datetime:
    return datetime(2026, month, day, 12, 0, tzinfo=timezone.utc)


@dataclass
class Seeded:
    ids: dict  # name -> customer id


def _customer(name: str, tier: str | None, value: int | None, merged_into: int | None = None) -> int:
    row = Customer(name=name, email=f"{name.lower()}@example.test", external_ref=f"HR-{name}",
                   merged_into_id=merged_into)
    db.session.add(row)
    db.session.flush()
    if tier is not None:
        db.session.add(CustomerTier(customer_id=row.id, computed_tier=tier, value_minor=value, rank=1,
                                    computed_at=COMPUTED))
    return row.id


def _health(customer_id: int, level: str, score: int, values: dict, points: dict) -> None:
    db.session.add(CustomerHealth(customer_id=customer_id, score=score, level=level, computed_at=COMPUTED,
                                  signal_values=values, signal_points=points))


def _change(customer_id: int, at: datetime, before: str | None, after: str, score: int, points: dict) -> None:
    db.session.add(HealthChange(customer_id=customer_id, at=at, from_level=before, to_level=after, score=score,
                                signal_values={}, signal_points=points))


def seed() -> Seeded:
    """Write the table above; returns the customers' ids by name."""
    ids = {}
    ids["Anhui"] = _customer("Anhui", "vip", 500_000)
    ids["Beijing"] = _customer("Beijing", "major", 200_000)
    ids["Chengdu"] = _customer("Chengdu", "vip", 300_000)
    ids["Dalian"] = _customer("Dalian", "small", -5_000)
    ids["Emei"] = _customer("Emei", None, None)
    ids["Fuzhou"] = _customer("Fuzhou", "vip", 900_000, merged_into=ids["Anhui"])
    ids["Guilin"] = _customer("Guilin", "ordinary", 10_000)
    _health(ids["Anhui"], "at_risk", 70, {"recency": 3.0, "complaints": 2, "satisfaction": 1, "returns": 0},
            {"recency": 30, "complaints": 20, "satisfaction": 20, "returns": 0})
    _health(ids["Beijing"], "at_risk", 55, {"recency": 2.8, "returns": 25.0, "complaints": 1},
            {"recency": 30, "returns": 15, "complaints": 0})
    _health(ids["Chengdu"], "watch", 30, {"recency": 2.6}, {"recency": 30})
    _health(ids["Dalian"], "healthy", 0, {"recency": 0.5}, {"recency": 0})
    _health(ids["Emei"], "at_risk", 55, {"complaints": 3, "satisfaction": 1, "sla_overdue": 2},
            {"complaints": 20, "satisfaction": 20, "sla_overdue": 15})
    _health(ids["Fuzhou"], "at_risk", 90, {"recency": 9.0}, {"recency": 30})
    _change(ids["Anhui"], noon(3, 10), None, "watch", 30, {"recency": 30})
    _change(ids["Anhui"], noon(4, 5), "watch", "at_risk", 70, {"recency": 30, "complaints": 20, "satisfaction": 20})
    _change(ids["Beijing"], noon(4, 20), None, "at_risk", 55, {"recency": 30, "returns": 15})
    _change(ids["Chengdu"], noon(3, 10), None, "at_risk", 50, {"recency": 30, "complaints": 20})
    _change(ids["Chengdu"], noon(5, 2), "at_risk", "watch", 30, {"recency": 30})
    _change(ids["Emei"], noon(5, 15), None, "at_risk", 55, {"complaints": 20, "satisfaction": 20, "sla_overdue": 15})
    _change(ids["Fuzhou"], noon(4, 1), None, "at_risk", 90, {"recency": 30})
    db.session.commit()
    return Seeded(ids)
