"""tier_sla on the console's customer pages: the tier and value columns of the
customer list (``customer_list_columns``), the tier and transactions
sections of the profile (``customer_sections``), and the plugin's part of a
merge of two customer records (``merging_customers``).

Merging moves the duplicate's transactions (a reference both records used
is kept on both rows, the moved one suffixed ``~merged-<id>`` so that the
unique (customer, reference) holds and nothing is dropped), its tier
history, and its tier override when the kept record has none active; the
duplicate's computed tier row is dropped, since the next recompute rates
the kept record on the transactions of both.
"""
from __future__ import annotations

import functools
from types import SimpleNamespace

from sqlalchemy import (
    Date,
    String,
    and_,
    bindparam,
    case,
    delete,
    func,
    or_,
    select,
    update,
)

from service import sdk
from service.sdk import Customer, UTCDateTime, utcnow
from service.sdk import gettext as _

from .labels import tier_name
from .models import CustomerTier, TierChange, Transaction
from .settings import tier_settings
from .tiers import RETIER_JOB


def tier_label(tier: str | None) -> str | None:
    """A tier's name in the page's language (``labels.tier_name``), None for none."""
    return tier_name(tier) if tier is not None else None


@functools.cache
def _effective_tier_sql():
    # The override while it lasts, else the computed tier (as ``tiers.tier_of``).
    ct = CustomerTier.__table__
    # The time is bound when the statement runs, not when it is built.
    now = bindparam("tier_sla_now", callable_=utcnow, type_=UTCDateTime())
    active = and_(ct.c.override_tier.is_not(None), or_(ct.c.override_until.is_(None), ct.c.override_until > now))
    return (select(case((active, ct.c.override_tier), else_=ct.c.computed_tier))
            .where(ct.c.customer_id == Customer.id).scalar_subquery())


def list_columns() -> list[sdk.CustomerListColumn]:
    """Tier (a filter, choices the current method's tiers) and value (sortable)."""
    tiers = tier_settings().tiers
    return [
        {"key": "tier_sla.tier", "label": _("Tier"), "expression": _effective_tier_sql(),
         "choices": [{"value": t, "label": tier_label(t)} for t in tiers]},
        {"key": "tier_sla.value", "label": _("Value (%(currency)s)", currency=currency_symbol(tier_settings().currency)),
         "expression": _value_sql(), "sortable": True, "kind": "number"},
    ]


@functools.cache
def _value_sql():
    # Built once: the same expression object lets the core reuse its statement.
    ct = CustomerTier.__table__
    return select(ct.c.value_minor / 100.0).where(ct.c.customer_id == Customer.id).scalar_subquery()


@functools.cache
def _tier_row():
    ct = CustomerTier.__table__
    return select(ct).where(ct.c.customer_id == bindparam("customer_id"))


@functools.cache
def _transactions_statement():
    t = Transaction
    # Sums over sales only, as tiers count them (returns and the like are not spend).
    sale = t.type == "sale"
    return (select(func.count(t.id), func.sum(case((sale, t.amount_minor), else_=0)),
                   func.sum(case((and_(sale, t.occurred_on.between(bindparam("first"), bindparam("last"))),
                                  t.amount_minor), else_=0)),
                   func.max(t.occurred_on)).where(t.customer_id == bindparam("customer_id")))


@functools.lru_cache(maxsize=64)
def _symbol(currency: str, locale: str) -> str:
    from babel.numbers import get_currency_symbol

    return get_currency_symbol(currency, locale=locale)


def currency_symbol(currency: str) -> str:
    """The currency's symbol in the page's language (CNY: ¥ in Chinese, CN¥ in English)."""
    from flask_babel import get_locale

    return _symbol(currency, str(get_locale() or "en"))


def _money(minor: int | None, currency: str) -> str | None:
    # English and Chinese both group thousands with a comma and use a decimal
    # point; Python's format costs a tenth of Babel's on a page shown often.
    return None if minor is None else f"{currency_symbol(currency)}{minor / 100:,.2f}"


# What the profile's sections show, read with the customer (``customer_columns``
# for ``sdk.PROFILE``) as ``tier_sla.profile.<name>``: the page then runs no
# statement of its own for them.
_ROW = ("computed_tier", "override_tier", "override_until", "value_minor", "rank", "computed_at")
_SUMS = ("count", "total", "period_total", "latest")


def _period_bound(which: int):
    # The tier period's first or last day, bound when the statement runs (see ``profile_columns``).
    def bound():
        return tier_settings().period(utcnow().date())[which]
    return bound


def profile_columns() -> dict:
    """The tier row's columns and the transactions' count, sale totals (all
    and in the tier period) and latest day, each a scalar subquery on the
    customer, for the core's read of a customer whose profile is shown."""
    ct, t = CustomerTier.__table__, Transaction
    own, mine, sale = ct.c.customer_id == Customer.id, t.customer_id == Customer.id, t.type == "sale"
    first = bindparam("tier_sla_period_first", callable_=_period_bound(0), type_=Date())
    last = bindparam("tier_sla_period_last", callable_=_period_bound(1), type_=Date())
    columns = {f"tier_sla.profile.{name}": select(ct.c[name]).where(own).scalar_subquery() for name in _ROW}
    sums = (func.count(t.id), func.sum(case((sale, t.amount_minor), else_=0)),
            func.sum(case((and_(sale, t.occurred_on.between(first, last)), t.amount_minor), else_=0)),
            func.max(t.occurred_on))
    columns.update({f"tier_sla.profile.{name}": select(value).where(mine).scalar_subquery()
                    for name, value in zip(_SUMS, sums)})
    return columns


def _profile_values(customer) -> tuple | None:
    """``(tier row or None, (count, total, period_total, latest))`` as read
    with the customer, else None (read another way: query)."""
    values = {name: sdk.preloaded(customer, f"tier_sla.profile.{name}") for name in (*_ROW, *_SUMS)}
    if any(value is sdk.NOT_LOADED for value in values.values()):
        return None
    # computed_tier is never NULL in a row: NULL means the customer has none.
    row = SimpleNamespace(**{name: values[name] for name in _ROW}) if values["computed_tier"] is not None else None
    return row, tuple(values[name] for name in _SUMS)


def sections(customer) -> list[sdk.CustomerSection]:
    """The tier section (tier, how it was set, value and rank of how many)
    and the transactions summary (count, total in the tier period, latest):
    from what the core read with the customer for the profile, else two
    statements."""
    s, now = tier_settings(), utcnow()
    first, last = s.period(now.date())
    found = _profile_values(customer)
    if found is None:
        row = sdk.read(_tier_row(), {"customer_id": customer.id}).first()
        sums = tuple(sdk.read(_transactions_statement(), {"customer_id": customer.id, "first": first,
                                                          "last": last}).one())
    else:
        row, sums = found
    tier_rows: list[sdk.PanelRow] = []
    if row is None:
        tier_rows.append({"label": _("Tier"), "value": _("Not computed yet"), "kind": "badge"})
    else:
        override = row.override_tier is not None and (row.override_until is None or row.override_until > now)
        tier_rows += [
            {"label": _("Tier"), "value": tier_label(row.override_tier if override else row.computed_tier),
             "kind": "badge"},
            {"label": _("Set by"), "value": _("Supervisor's override") if override else _("Computed from value"),
             "kind": "text"},
            {"label": _("Value"), "value": _money(row.value_minor, s.currency), "kind": "text"},
            {"label": _("Rank by value"), "value": row.rank, "kind": "text"},
            {"label": _("Computed"), "value": row.computed_at.isoformat(), "kind": "time"},
        ]
        if override:
            tier_rows.append({"label": _("Override until"), "value": row.override_until.isoformat()
                              if row.override_until else _("No end"), "kind": "time" if row.override_until else "text"})
    count, total, period_total, latest = sums
    tx_rows: list[sdk.PanelRow] = [
        {"label": _("Transactions"), "value": count, "kind": "text"},
        {"label": _("Total"), "value": _money(total or 0, s.currency), "kind": "text"},
        {"label": _("In the last %(days)s days", days=s.period_days), "value": _money(period_total or 0, s.currency),
         "kind": "text"},
        {"label": _("Latest"), "value": latest.isoformat() if latest else _("None yet"), "kind": "text"},
    ]
    return [{"key": "tier", "title": _("Tier and value"), "rows": [r for r in tier_rows if r["value"] is not None]},
            {"key": "transactions", "title": _("Transactions"), "rows": tx_rows}]


def merge(kept, merged) -> list[sdk.MergeMoved]:
    """Move the duplicate's transactions, tier history and override to the
    kept record (see the module docstring); answer the counts moved."""
    db = sdk.db.session
    t = Transaction
    clash = select(t.reference).where(t.customer_id == kept.id).scalar_subquery()
    db.execute(update(t).where(t.customer_id == merged.id, t.reference.in_(clash))
               .values(reference=func.substr(t.reference, 1, 60, type_=String) + f"~merged-{merged.id}")
               .execution_options(synchronize_session=False))
    moved = db.execute(update(t).where(t.customer_id == merged.id).values(customer_id=kept.id)
                       .execution_options(synchronize_session=False)).rowcount
    changes = db.execute(update(TierChange).where(TierChange.customer_id == merged.id)
                         .values(customer_id=kept.id).execution_options(synchronize_session=False)).rowcount
    now = utcnow()
    kept_row, merged_row = db.get(CustomerTier, kept.id), db.get(CustomerTier, merged.id)
    override = 0
    if merged_row is not None:
        merged_active = merged_row.override_tier is not None and (merged_row.override_until is None
                                                                  or merged_row.override_until > now)
        kept_active = kept_row is not None and kept_row.override_tier is not None and (
            kept_row.override_until is None or kept_row.override_until > now)
        if kept_row is None:
            # The kept record was never rated: it takes the duplicate's row whole.
            db.add(CustomerTier(customer_id=kept.id, computed_tier=merged_row.computed_tier,
                                value_minor=merged_row.value_minor, rank=merged_row.rank,
                                computed_at=merged_row.computed_at, override_tier=merged_row.override_tier,
                                override_reason=merged_row.override_reason, override_by=merged_row.override_by,
                                override_until=merged_row.override_until))
            override = int(merged_active)
        elif merged_active and not kept_active:
            kept_row.override_tier, kept_row.override_reason = merged_row.override_tier, merged_row.override_reason
            kept_row.override_by, kept_row.override_until = merged_row.override_by, merged_row.override_until
            override = 1
        db.flush()
        db.execute(delete(CustomerTier).where(CustomerTier.customer_id == merged.id)
                   .execution_options(synchronize_session=False))
        db.expunge(merged_row)
    # The kept record's open tickets - its own and the ones just moved - take
    # its tier and their SLA targets follow (the retier job, committed with the merge).
    sdk.enqueue(RETIER_JOB, customer_ids=[kept.id])
    return [{"key": "transactions", "label": _("Transactions"), "count": moved},
            {"key": "tier_changes", "label": _("Tier changes"), "count": changes},
            {"key": "tier_override", "label": _("Tier override"), "count": override}]
