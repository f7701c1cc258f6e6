"""The set-based recompute of every customer's health.

One transaction (all or nothing), worked in ranges of ``HEALTH_CHUNK``
customer ids so that each statement's work stays bounded whatever the number
of customers. First each customer's transactions are aggregated once, in one
pass (a temporary table). Then per range, a few statements and no Python loop
over customers:

1. contact changes: a ``ContactChange`` for each customer whose e-mail or
   phone differs from what the last recompute saw;
2. the hook signals' queries fill a temporary table of values;
3. one ``INSERT ... SELECT`` writes every signal's value and points, the
   score and the level per customer (``measures.values_insert``);
4. one ``INSERT ... SELECT`` records a ``HealthChange`` for each customer
   whose level changed (a customer seen for the first time counts as having
   been healthy, so a first run records only the others);
5. one upsert writes ``customer_health`` where it changed (``computed_at``:
   when the customer's values last changed; ``HealthRun``: when each run
   ended, so a reader knows how fresh unchanged rows are).

After the commit, ``customer.health_changed`` is published for each change,
a page of changes at a time.

Idempotent: run twice on the same day with the same data, the second run
records nothing (values depend on the day, not the second). Concurrent
runs wait for each other.
"""
from __future__ import annotations

import logging
import time
from datetime import date, datetime, timedelta, timezone

from sqlalchemy import Date, bindparam, select, text

from service import sdk
from service.sdk import UTCDateTime, utcnow

from . import catalog, measures
from .measures import EXT, TMP
from .models import HealthChange, HealthRun
from .settings import settings

log = logging.getLogger("kefu.relationship_health")
EVENT = "customer.health_changed"
JOB = "relationship_health.recompute"


def _naive(value: datetime) -> datetime:
    return value.astimezone(timezone.utc).replace(tzinfo=None)


def _run(sql: str, params: dict):
    """Execute ``sql`` with typed parameters: times as naive UTC (as the
    models store them), dates as dates."""
    binds, values = [], {}
    for key, value in params.items():
        if f":{key}" not in sql:
            continue
        if isinstance(value, datetime):
            binds.append(bindparam(key, type_=UTCDateTime()))
        elif isinstance(value, date):
            binds.append(bindparam(key, type_=Date()))
        values[key] = value
    return sdk.db.session.execute(text(sql).bindparams(*binds), values)


def _ext_values(signals, now, lo: int, hi: int, pg: bool) -> list[str]:
    """Run each hook signal's query for the range into ``EXT``; a query that
    fails is rolled back to its savepoint, logged and scores nothing.
    Returns the names of the signals that failed."""
    failed = []
    for s in signals:
        if s.measure is not None:
            continue
        params = {"lo": lo, "hi": hi, "now": now, "since": now - timedelta(days=s.window_days), "sig": s.name}
        try:
            with sdk.db.session.begin_nested():
                _run(f"INSERT INTO {EXT} (customer_id, signal, value) SELECT q.customer_id, :sig, q.value "
                     f"FROM ({s.query}) q WHERE q.customer_id BETWEEN :lo AND :hi", params)
        except Exception:  # an integrator's SQL: its failure must not stop the others
            log.exception("relationship_health: signal %r of plugin %s failed", s.name, s.plugin)
            failed.append(s.name)
    return failed


def _range(signals, built, now, lo: int, hi: int, pg: bool) -> tuple[int, int, list[str]]:
    """Recompute customers ``lo`` to ``hi`` inside the run's transaction;
    returns (customers, level changes, failed hook signals)."""
    session = sdk.db.session
    session.execute(text(f"DELETE FROM {TMP}"))
    session.execute(text(f"DELETE FROM {EXT}"))
    _run("INSERT INTO customer_contact_changes (customer_id, at) SELECT h.customer_id, :now "
         "FROM customer_health h JOIN customers c ON c.id = h.customer_id "
         "WHERE h.customer_id BETWEEN :lo AND :hi AND c.id BETWEEN :lo AND :hi AND h.contact_seen IS NOT NULL "
         f"AND h.contact_seen <> {measures.CONTACT}", {"now": now, "lo": lo, "hi": hi})
    failed = _ext_values(signals, now, lo, hi, pg)
    customers = _run(built.sql, {**built.params, "lo": lo, "hi": hi}).rowcount
    # Row counts for the planner: without them it guesses the temporary
    # table's size and joins it to customer_health by scanning the latter.
    session.execute(text(f"ANALYZE {TMP}"))
    values, vparams = measures.json_object([(x.name, f"t.v_{i}") for i, x in enumerate(signals)], pg)
    pts, pparams = measures.json_object([(x.name, f"t.p_{i}") for i, x in enumerate(signals)], pg)
    pparams = {k.replace("key_", "pkey_"): v for k, v in pparams.items()}
    pts = pts.replace(":key_", ":pkey_")
    changed = _run(
        "INSERT INTO customer_health_changes (customer_id, at, from_level, to_level, score, signal_values, "
        f"signal_points) SELECT t.customer_id, :now, h.level, t.level, t.score, {values}, {pts} "
        # The range again on h: PostgreSQL then reads customer_health by its
        # primary key over the range instead of scanning all of it.
        f"FROM {TMP} t LEFT JOIN customer_health h ON h.customer_id = t.customer_id "
        "AND h.customer_id BETWEEN :lo AND :hi "
        "WHERE COALESCE(h.level, 'healthy') <> t.level ORDER BY t.customer_id",
        {"now": now, "lo": lo, "hi": hi, **vparams, **pparams}).rowcount
    _run("INSERT INTO customer_health (customer_id, score, level, computed_at, signal_values, signal_points, "
         f"contact_seen) SELECT t.customer_id, t.score, t.level, :now, {values}, {pts}, t.contact "
         f"FROM {TMP} t WHERE true ON CONFLICT (customer_id) DO UPDATE SET score = excluded.score, "
         "level = excluded.level, computed_at = excluded.computed_at, signal_values = excluded.signal_values, "
         "signal_points = excluded.signal_points, contact_seen = excluded.contact_seen "
         # Unchanged rows are left as they are: a nightly run then writes
         # only the customers whose health moved (computed_at says when).
         "WHERE customer_health.score <> excluded.score OR customer_health.level <> excluded.level "
         "OR CAST(customer_health.signal_values AS TEXT) <> CAST(excluded.signal_values AS TEXT) "
         "OR COALESCE(customer_health.contact_seen, '') <> COALESCE(excluded.contact_seen, '')",
         {"now": now, **vparams, **pparams})
    return customers, changed, failed


PAGE = 5_000  # level changes published per unit of work


def _publish(now) -> None:
    """Publish ``customer.health_changed`` for each change the run at ``now``
    recorded, a page at a time (each page one unit of work: the events go out
    after it commits), so memory stays bounded however many changed."""
    last = 0
    while True:
        with sdk.UnitOfWork() as uow:
            page = sdk.db.session.execute(
                select(HealthChange.id, HealthChange.customer_id, HealthChange.from_level, HealthChange.to_level,
                       HealthChange.score, HealthChange.signal_points)
                .where(HealthChange.at == now, HealthChange.id > last).order_by(HealthChange.id).limit(PAGE)).all()
            for change in page:
                uow.publish(EVENT, None, {"customer_id": change.customer_id, "from": change.from_level,
                                          "to": change.to_level, "score": change.score,
                                          "signals": {k: v for k, v in (change.signal_points or {}).items() if v}})
            uow.commit()
        if len(page) < PAGE:
            return
        last = page[-1].id


def recompute(progress=None, now: datetime | None = None) -> dict:
    """Recompute every customer's health score and level.

    ``now`` (aware; default the current time) is the moment the signals are
    measured at - tests pin it. ``progress(n)`` is called after each range
    with the number of customer ids it covered. One transaction (all or
    nothing; a concurrent run waits for it), worked in ranges of
    ``HEALTH_CHUNK`` customer ids; the events are published after it commits,
    a page at a time. Returns ``{"customers", "changed", "chunks",
    "failed_signals", "seconds"}``.
    """
    started = time.monotonic()
    now = now or utcnow()
    s = settings()
    signals = catalog.in_force()
    other = {name: catalog.other_settings(name) for name in ("tier_sla", "satisfaction_survey")}
    session = sdk.db.session
    pg = session.get_bind().dialect.name == "postgresql"
    total = {"customers": 0, "changed": 0, "chunks": 0, "failed_signals": []}
    with sdk.UnitOfWork() as uow:
        if pg:
            # Another recompute waits for this one; plain reads (the API) do not.
            session.execute(text("LOCK TABLE customer_health IN SHARE ROW EXCLUSIVE MODE"))
        else:
            # Take SQLite's write lock first, so a concurrent run waits instead
            # of computing from a snapshot this one is about to change.
            session.execute(text("DELETE FROM customer_health WHERE 1 = 0"))
            for table in (TMP, EXT, measures.TX):
                session.execute(text(f"DROP TABLE IF EXISTS temp.{table}"))
        session.execute(text(measures.create_tmp(signals, pg)))
        session.execute(text(measures.create_ext(pg)))
        built = measures.values_insert(signals, now, s, other["tier_sla"], other["satisfaction_survey"], pg,
                                       sdk.OPEN_STATUSES)
        for statement in built.prepare:
            _run(statement, built.params)
        low, high = session.execute(text("SELECT MIN(id), MAX(id) FROM customers")).one()
        lo = low
        while lo is not None and lo <= high:
            hi = min(lo + s.chunk - 1, high)
            customers, changed, failed = _range(signals, built, now, lo, hi, pg)
            total["customers"] += customers
            total["changed"] += changed
            total["chunks"] += 1
            total["failed_signals"] = sorted(set(total["failed_signals"]) | set(failed))
            if progress:
                progress(hi - lo + 1)
            lo = hi + 1
        if not pg:
            for table in (TMP, EXT, measures.TX):
                session.execute(text(f"DROP TABLE IF EXISTS temp.{table}"))
        uow.commit()
    if total["changed"]:
        _publish(now)
    total["seconds"] = round(time.monotonic() - started, 3)
    with sdk.UnitOfWork() as uow:
        sdk.db.session.add(HealthRun(started_at=now, finished_at=utcnow(), customers=total["customers"],
                                     changed=total["changed"], seconds=total["seconds"]))
        uow.commit()
    log.info("customer health recomputed: %s", total)
    return total


def id_span() -> int:
    """How many customer ids a recompute walks (the progress bar's length)."""
    low, high = sdk.db.session.execute(text("SELECT MIN(id), MAX(id) FROM customers")).one()
    return 0 if low is None else high - low + 1


def recompute_job() -> dict:
    """``relationship_health.recompute``, the periodic job: ``recompute()``; safe to run twice."""
    return recompute()
