"""Customer tiers: the set-based recompute, the effective tier, overrides, the Pareto report.

How a tier is computed (``recompute``): each customer's value is the sum of
their sales in ``TIER_CURRENCY`` over the period (amounts for ``spend``,
margins for ``margin``; a credit note is a sale with a negative amount).
Returns, exchanges and cancellations (``Transaction.type``) are not sales and
count for nothing here, so recording one never raises a customer's value. All customers are ranked by value,
highest first; **ties go to the older customer** (lower id ranks first), so
the order is total and a boundary falls between two equal customers, never
around them. With ``n`` customers (all of them, with spend or not), the
customer at ``rank`` is in the first tier whose cumulative share ``p`` (in
percent) satisfies ``rank * 100 <= n * p``, in integers, so 1,000 customers
give exactly 10/40/150/800 in the pyramid and 50/150/800 in ABC. A customer
whose value is zero or negative is always in the lowest tier.

The effective tier is a supervisor's override while it lasts (no ``until``,
or ``until`` in the future), else the computed tier. Every change of the
effective tier is a ``TierChange`` row (from, to, why): from a recompute, an
override set or removed, or an override that expired (recorded by the next
recompute, which also clears it). Each change is one ``sdk.UnitOfWork``,
with the ``tier_sla.retier`` job that moves the customers' open tickets to
their new tier (relayed when it commits).
"""
from __future__ import annotations

import functools
import logging
import time
from datetime import timedelta

from sqlalchemy import Date, bindparam, case, literal_column, select, text, true

from service import sdk
from service.sdk import NOT_LOADED, UTCDateTime, preloaded, utcnow

from .models import CustomerTier, TierChange
from .settings import tier_settings

Customer = sdk.Customer
log = logging.getLogger("kefu.tier_sla")
TMP = "tier_recompute_tmp"  # a temporary table: private to the connection
OVERRIDE_MAX = timedelta(days=3660)
HISTORY_LIMIT = 50


def money(minor: int | None) -> str | None:
    """Minor units as a decimal string with two places (``123456`` -> ``"1234.56"``)."""
    if minor is None:
        return None
    return f"{'-' if minor < 0 else ''}{abs(minor) // 100}.{abs(minor) % 100:02d}"


def _sql_money(col: str) -> str:
    # money() in SQL that reads the same on SQLite and PostgreSQL (integer maths only).
    return (f"(CASE WHEN {col} < 0 THEN '-' ELSE '' END || CAST(ABS({col}) / 100 AS TEXT) || '.' || "
            f"SUBSTR(CAST(ABS({col}) % 100 + 100 AS TEXT), 2, 2))")


# --------------------------------------------------------------------------- recompute

def _rank_sql(bands, measure: str) -> str:
    cases = " ".join(f"WHEN r.pos * 10000 <= r.n * {cum} THEN :tier{i}" for i, (_, cum) in enumerate(bands[:-1]))
    return f"""
    INSERT INTO {TMP} (customer_id, value, pos, n, tier)
    SELECT r.customer_id, r.value, r.pos, r.n, CASE WHEN r.value <= 0 THEN :lowest {cases} ELSE :lowest END
    FROM (SELECT c.id AS customer_id, COALESCE(v.value, 0) AS value,
                 ROW_NUMBER() OVER (ORDER BY COALESCE(v.value, 0) DESC, c.id ASC) AS pos,
                 COUNT(*) OVER () AS n
          FROM customers c LEFT JOIN (
              SELECT t.customer_id, CAST(SUM({measure}) AS BIGINT) AS value FROM tier_transactions t
              WHERE t.occurred_on >= :first AND t.occurred_on <= :last AND t.currency = :currency
                    AND t.type = 'sale'
              GROUP BY t.customer_id) v ON v.customer_id = c.id) r"""


_EXPIRED = "ct.override_tier IS NOT NULL AND ct.override_until IS NOT NULL AND ct.override_until <= :now"
_CHANGES_SQL = f"""
    INSERT INTO customer_tier_changes (customer_id, at, from_tier, to_tier, reason)
    SELECT x.customer_id, :now, x.old_tier, x.new_tier,
           SUBSTR(CASE WHEN x.expired = 1 THEN 'override expired; ' ELSE '' END || :why || {_sql_money('x.value')}
                  || :unit || CAST(x.pos AS TEXT) || ' of ' || CAST(x.n AS TEXT) || :suffix, 1, 200)
    FROM (SELECT t.customer_id, t.value, t.pos, t.n, COALESCE(ct.override_tier, ct.computed_tier) AS old_tier,
                 CASE WHEN {_EXPIRED} THEN 1 ELSE 0 END AS expired,
                 CASE WHEN ct.override_tier IS NOT NULL AND NOT ({_EXPIRED}) THEN ct.override_tier
                      ELSE t.tier END AS new_tier
          FROM {TMP} t LEFT JOIN customer_tiers ct ON ct.customer_id = t.customer_id) x
    WHERE x.old_tier IS NULL OR x.old_tier <> x.new_tier
    ORDER BY x.customer_id"""

_KEEP = "CASE WHEN customer_tiers.override_until <= excluded.computed_at THEN NULL ELSE customer_tiers.{0} END"
# WHERE true: SQLite needs it to parse ON CONFLICT after INSERT ... SELECT.
_UPSERT_SQL = f"""
    INSERT INTO customer_tiers (customer_id, computed_tier, value_minor, rank, computed_at)
    SELECT t.customer_id, t.tier, t.value, t.pos, :now FROM {TMP} t WHERE true
    ON CONFLICT (customer_id) DO UPDATE SET computed_tier = excluded.computed_tier,
        value_minor = excluded.value_minor, rank = excluded.rank, computed_at = excluded.computed_at,
        override_tier = {_KEEP.format('override_tier')}, override_reason = {_KEEP.format('override_reason')},
        override_by = {_KEEP.format('override_by')}, override_until = {_KEEP.format('override_until')}"""


_TYPES = {"now": UTCDateTime(), "first": Date(), "last": Date()}


def _sql(sql: str):
    # Typed parameters: times are stored as naive UTC, as the models store them.
    return text(sql).bindparams(*[bindparam(k, type_=t) for k, t in _TYPES.items() if f":{k}" in sql])


RECOMPUTE_STEPS = 5  # progress() is called once after each


def recompute(progress=None) -> dict:
    """Recompute every customer's tier from the transactions, in one unit of work.

    Set-based: one ``INSERT ... SELECT`` ranks all customers with window
    functions into a temporary table, one records a ``TierChange`` for each
    customer whose effective tier changes (including overrides that expired,
    which are cleared), one upserts ``customer_tiers``. No Python loop over
    customers. Running it twice in a row records nothing the second time.
    Concurrent runs wait for each other. ``progress()`` is called after each
    of ``RECOMPUTE_STEPS`` steps. Returns ``{"customers", "changed",
    "overrides_expired", "method", "measure", "period_from", "period_to",
    "seconds"}``. Raises ``ValueError`` for bad settings.
    """
    s = tier_settings()
    started, now = time.monotonic(), utcnow()
    first, last = s.period(now.date())
    session = sdk.db.session
    step = progress or (lambda: None)
    # All or nothing: leaving the unit without its commit rolls everything
    # back (the temporary table goes too).
    with sdk.UnitOfWork() as uow:
        pg = session.get_bind().dialect.name == "postgresql"
        if pg:
            # Another recompute or an override edit waits; plain reads (the decider) do not.
            session.execute(text("LOCK TABLE customer_tiers IN SHARE ROW EXCLUSIVE MODE"))
            if s.work_mem:  # validated, so safe to inline (SET takes no parameters)
                session.execute(text(f"SET LOCAL work_mem = '{s.work_mem}'"))
        else:
            # A write first takes SQLite's write lock for the whole run, so a
            # concurrent run waits instead of computing from a stale snapshot.
            session.execute(text("DELETE FROM customer_tiers WHERE 1 = 0"))
            session.execute(text(f"DROP TABLE IF EXISTS temp.{TMP}"))
        session.execute(text(f"CREATE TEMP TABLE {TMP} (customer_id INTEGER NOT NULL, value BIGINT NOT NULL, "
                             "pos BIGINT NOT NULL, n BIGINT NOT NULL, tier VARCHAR(20) NOT NULL)"
                             + (" ON COMMIT DROP" if pg else "")))
        measure = "t.amount_minor" if s.measure == "spend" else "COALESCE(t.margin_minor, 0)"
        names = {f"tier{i}": name for i, (name, _) in enumerate(s.bands[:-1])}
        session.execute(_sql(_rank_sql(s.bands, measure)),
                        {"lowest": s.lowest, "first": first, "last": last, "currency": s.currency, **names})
        step()
        customers = session.scalar(text(f"SELECT COUNT(*) FROM {TMP}"))
        expired = session.scalar(_sql(f"SELECT COUNT(*) FROM customer_tiers ct WHERE {_EXPIRED}"), {"now": now})
        step()
        changed = session.execute(_sql(_CHANGES_SQL), {
            "now": now, "why": f"recompute: {s.measure} ", "unit": f" {s.currency}, rank ",
            "suffix": f" ({s.method}, {first.isoformat()} to {last.isoformat()})"}).rowcount
        step()
        session.execute(_sql(_UPSERT_SQL), {"now": now})
        step()
        if not pg:
            session.execute(text(f"DROP TABLE temp.{TMP}"))
        if changed:
            # The changes just recorded carry this run's time: the job finds their customers by it.
            _retier(changed_at=now.isoformat())
        uow.commit()
    step()
    result = {"customers": int(customers), "changed": int(changed), "overrides_expired": int(expired),
              "method": s.method, "measure": s.measure, "period_from": first, "period_to": last,
              "seconds": round(time.monotonic() - started, 3)}
    log.info("tiers recomputed: %s", result)
    return result


def recompute_job() -> dict:
    """``tier_sla.recompute``, the nightly job: ``recompute()``; safe to run twice."""
    result = recompute()
    return {**result, "period_from": result["period_from"].isoformat(), "period_to": result["period_to"].isoformat()}


# --------------------------------------------------------------------------- the effective tier

@functools.cache
def _tier_stmt():
    # One row per existing customer: their tier row (outer-joined by primary
    # key) and, only when they have none, whether any recompute has run at
    # all. Inside the CASE the EXISTS is evaluated lazily, so the usual call
    # never runs it (a scan past dead rows after a recompute is not free).
    c, ct = Customer.__table__, CustomerTier.__table__
    anything = select(literal_column("1")).select_from(ct).exists()
    any_tier = case((ct.c.customer_id.is_(None), anything), else_=true()).label("any_tier")
    return (select(ct.c.computed_tier, ct.c.override_tier, ct.c.override_until, any_tier)
            .select_from(c.outerjoin(ct, ct.c.customer_id == c.c.id)).where(c.c.id == bindparam("id")))


def _override_active(row, now) -> bool:
    return _active(row.override_tier, row.override_until, now)


def _active(override_tier, override_until, now) -> bool:
    return override_tier is not None and (override_until is None or override_until > now)


PRELOADED = ("computed_tier", "override_tier", "override_until")


def customer_columns() -> dict:
    """The tier row's columns for the core to read with a customer
    (``customer_columns`` hook), as ``tier_sla.<column>``, and
    ``tier_sla.any_tier`` as in ``_tier_stmt``: opening a ticket then costs
    no query of its own for the tier."""
    ct = CustomerTier.__table__
    own = ct.c.customer_id == Customer.id
    columns = {f"tier_sla.{name}": select(ct.c[name]).where(own).scalar_subquery() for name in PRELOADED}
    # Whether any recompute ran matters only for a customer without a row;
    # the CASE asks the (unindexed) EXISTS only then.
    anything = select(literal_column("1")).select_from(ct).exists()
    columns["tier_sla.any_tier"] = case((select(literal_column("1")).where(own).exists(), true()), else_=anything)
    return columns


def tier_of(customer) -> str | None:
    """``effective_tier`` for the decider, from the columns the core read
    with ``customer`` when it did; else by query."""
    computed, override, until, any_tier = (preloaded(customer, f"tier_sla.{name}")
                                           for name in (*PRELOADED, "any_tier"))
    if any_tier is NOT_LOADED:
        return effective_tier(getattr(customer, "id", None))
    if computed is None:  # no row (computed_tier is never NULL in one)
        return tier_settings().lowest if any_tier else None
    return override if _active(override, until, utcnow()) else computed


def effective_tier(customer_id: int | None) -> str | None:
    """The customer's effective tier (active override, else computed), for the decider.

    One query by primary key. A customer without a tier row yet (added since
    the last recompute) is in the lowest tier; before any recompute (or for
    an unknown id) the answer is None, so the next plugin or the core decides.
    """
    if customer_id is None:
        return None
    row = sdk.db.session.execute(_tier_stmt(), {"id": customer_id}).first()
    if row is None:
        return None
    if row.computed_tier is None:
        return tier_settings().lowest if row.any_tier else None
    return row.override_tier if _override_active(row, utcnow()) else row.computed_tier


def detail(customer_id: int) -> dict:
    """Everything about a customer's tier for the API and CLI (404 when no such
    customer): tier, source (computed/override/None), value, rank, override
    and the latest ``HISTORY_LIMIT`` changes, newest first."""
    sdk.get_customer(customer_id)
    s, now = tier_settings(), utcnow()
    row = sdk.db.session.get(CustomerTier, customer_id)
    history = sdk.db.session.scalars(select(TierChange).where(TierChange.customer_id == customer_id)
                                 .order_by(TierChange.id.desc()).limit(HISTORY_LIMIT)).all()
    out = {"customer_id": customer_id, "tier": effective_tier(customer_id), "source": None, "computed_tier": None,
           "value": None, "value_minor": None, "rank": None, "computed_at": None, "override": None,
           "method": s.method, "measure": s.measure, "currency": s.currency, "history": history}
    if row is not None:
        out.update(source="override" if _override_active(row, now) else "computed", computed_tier=row.computed_tier,
                   value=money(row.value_minor), value_minor=row.value_minor, rank=row.rank,
                   computed_at=row.computed_at)
        if row.override_tier is not None:
            out["override"] = {"tier": row.override_tier, "reason": row.override_reason, "until": row.override_until,
                               "by": row.override_by, "active": _override_active(row, now)}
    elif out["tier"] is not None:
        out["source"] = "computed"
    return out


# --------------------------------------------------------------------------- overrides

def _locked(customer_id: int) -> CustomerTier | None:
    return sdk.db.session.scalar(select(CustomerTier).where(CustomerTier.customer_id == customer_id)
                                 .with_for_update())


def _record(customer_id, old, new, reason, now) -> bool:
    if old != new:
        sdk.db.session.add(TierChange(customer_id=customer_id, at=now, from_tier=old, to_tier=new, reason=reason[:200]))
    return old != new


RETIER_JOB = "tier_sla.retier"


def _retier(**job_kwargs) -> None:
    """Queue the job that moves the customers' open tickets to their new tier
    (``sla.retier_job``) in the current unit of work, so that a tier change
    and the re-targeting of its tickets commit (and are relayed) together."""
    sdk.enqueue(RETIER_JOB, **job_kwargs)


def set_override(customer_id: int, tier: str, reason: str, until, staff) -> dict:
    """A supervisor pins the customer's tier, with a reason and an optional
    expiry (aware datetime, in the future, within ten years); committed.

    404 for an unknown customer; 422 naming ``tier`` (not a tier of the
    current method), ``reason`` (blank) or ``until``. Records a
    ``TierChange`` when the effective tier changes. Returns ``detail()``.
    """
    sdk.get_customer(customer_id)
    s, now = tier_settings(), utcnow()
    reason = (reason or "").strip()
    errors = {}
    if tier not in s.tiers:
        errors["tier"] = [f"not a tier of the {s.method} method: {', '.join(s.tiers)}"]
    if not reason:
        errors["reason"] = ["give the reason for the override"]
    if until is not None:
        try:
            if until <= now:
                errors["until"] = ["must be in the future"]
            elif until > now + OVERRIDE_MAX:
                errors["until"] = ["must be within ten years"]
        except (TypeError, OverflowError):
            errors["until"] = ["not a usable date and time"]
    if errors:
        raise sdk.ValidationFailed("invalid tier override: " + ", ".join(sorted(errors)), errors)
    with sdk.UnitOfWork() as uow:
        sdk.hold_customer(customer_id)  # before the tier row: the order a delete of the customer takes
        row = _locked(customer_id)
        old = None
        if row is None:
            # Not computed yet: no spend is known, so the computed tier is the lowest.
            row = CustomerTier(customer_id=customer_id, computed_tier=s.lowest, value_minor=0, rank=None,
                               computed_at=now)
            sdk.db.session.add(row)
        else:
            old = row.override_tier or row.computed_tier
        row.override_tier, row.override_reason, row.override_by, row.override_until = tier, reason, staff.id, until
        expiry = f" until {until.astimezone(now.tzinfo):%Y-%m-%d %H:%M} UTC" if until is not None else ""
        if _record(customer_id, old, tier, f"override by {staff.name} (staff {staff.id}){expiry}: {reason}", now):
            _retier(customer_ids=[customer_id])
        uow.commit()
    return detail(customer_id)


def clear_override(customer_id: int, staff) -> dict:
    """Remove the customer's override (expired or not); the computed tier
    applies again. Idempotent; committed. 404 for an unknown customer."""
    sdk.get_customer(customer_id)
    now = utcnow()
    with sdk.UnitOfWork() as uow:
        sdk.hold_customer(customer_id)  # before the tier row: the order a delete of the customer takes
        row = _locked(customer_id)
        if row is not None and row.override_tier is not None:
            note = "" if _override_active(row, now) else " (it had expired)"
            if _record(customer_id, row.override_tier, row.computed_tier,
                       f"override removed by {staff.name} (staff {staff.id}){note}", now):
                _retier(customer_ids=[customer_id])
            row.override_tier = row.override_reason = row.override_by = row.override_until = None
        uow.commit()
    return detail(customer_id)
