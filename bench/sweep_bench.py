"""SLA sweep benchmark: the ``tier_sla.sweep`` job on PostgreSQL with 1,000,000
open tickets of which 1,000 fall due (target: under 0.5 s).

What it measures
----------------
1. starts a throwaway PostgreSQL cluster with ``scripts/pg.sh`` (as
   ``bench/tier_bench.py``: a free 127.0.0.1 port, a temp dir, fsync=off)
   and migrates kefu's schema into it;
2. bulk-loads ``--tickets`` open tickets (new, confirmed, in progress) for
   1,000 customers, each with its SLA clock (``ticket_slas``) under the
   default policy, in SQL (``generate_series``, no Python rows). All but
   ``--due`` clocks look next in the coming days (the usual state of a big
   queue); ``--due`` clocks are vip urgent tickets on the 24x7 calendar,
   opened 25 minutes ago, so exactly one step is due on each: the
   first-response warning at 75 % of 30 minutes;
3. times the job the worker runs every minute, ``sweep_job()``: start the
   clocks of new tickets (none here), read the due clocks through the index
   on ``next_check``, fire the steps, write the history events, the flags
   and the alert mails (outbox rows relayed to the in-process queue, as
   without Redis), then the ``sla_warning`` hooks after the commit. Then it
   times a second run (nothing due: the cost of a quiet minute);
4. repeats the load for ``--due`` clocks whose deadline passed as well
   (warning and breach: the supervisor is told and the ticket flagged), for
   a heavier minute.

The floor is the same run's cost of one indexed read of the due clocks
(``SELECT ... WHERE next_check <= now ORDER BY next_check LIMIT 1000``):
the ratio says how much the sweep adds to the read it cannot avoid.

The table goes to stdout and, as Markdown, to ``bench/results/sweep-latest.md``
(git-ignored); progress goes to stderr.

Running it
----------
From the repository root (PostgreSQL 15 from Debian installed)::

    .venv/bin/python bench/sweep_bench.py                 # 1,000,000 tickets, 1,000 due
    .venv/bin/python bench/sweep_bench.py --quick         # 100,000 tickets, 1,000 due

The cluster is stopped by its pid when the run ends, also on errors and Ctrl-C.
"""
from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import sqlalchemy as sa

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
TARGET_SECONDS = 0.5
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(BENCH))

from tier_bench import _removed, finish, kefu_app, log, postgresql_cluster, render_result  # noqa: E402

SETUP_SQL = """
INSERT INTO departments (code, name, name_zh, created_at) VALUES ('after_sales', 'After-sales', '售后部', now());
INSERT INTO staff (email, name, role, department_id, active, language, timezone, created_at)
SELECT 'lead@bench.test', 'Lead', 'supervisor', d.id, true, 'en', 'Asia/Shanghai', now() FROM departments d;
INSERT INTO staff (email, name, role, department_id, active, language, timezone, created_at)
SELECT 'agent@bench.test', 'Agent', 'agent', d.id, true, 'en', 'Asia/Shanghai', now() FROM departments d;
UPDATE departments SET supervisor_id = (SELECT id FROM staff WHERE role = 'supervisor');
INSERT INTO customers (kind, name, language, external_ref, created_at)
SELECT 'person', 'Customer ' || g, 'en', 'C' || g, now() FROM generate_series(1, 1000) AS g
"""
# Open tickets, ``:n`` of them from id ``:start``; the first ``:due`` are the
# vip urgent ones that fall due now. Times are naive UTC, as kefu stores them.
TICKETS_SQL = """
INSERT INTO tickets (id, kind, channel, category_id, subject, description, priority, status, customer_id,
                     department_id, assignee_id, reopen_count, customer_tier, sla_policy, first_response_due,
                     resolution_due, created_at, confirmed_at, updated_at, version)
SELECT g, 'complaint', 'web', (SELECT min(id) FROM categories), 'Ticket ' || g, 'Bench ticket', p.priority,
       p.status, (SELECT min(id) FROM customers) + g % 1000, (SELECT id FROM departments),
       (SELECT id FROM staff WHERE role = 'agent'), 0, p.tier, 'tier_sla:v' || :policy || ':' || p.tier,
       p.created + interval '1 minute' * p.fr, p.created + interval '1 minute' * p.res, p.created,
       CASE WHEN p.status = 'new' THEN NULL ELSE p.created + interval '5 minutes' END, p.created, 1
FROM generate_series(CAST(:start AS bigint), CAST(:start AS bigint) + :n - 1) AS g,
LATERAL (SELECT CASE WHEN g < :start + :due THEN 'urgent' ELSE (ARRAY['low','normal','high'])[1 + g % 3] END
                    AS priority,
                CASE WHEN g < :start + :due THEN 'new' ELSE (ARRAY['new','confirmed','in_progress'])[1 + g % 3] END
                    AS status,
                CASE WHEN g < :start + :due THEN 'vip' ELSE 'small' END AS tier,
                CASE WHEN g < :start + :due THEN timezone('UTC', now()) - interval '1 minute' * :age
                     ELSE timezone('UTC', now()) - interval '1 minute' * (g % 600) END AS created,
                CASE WHEN g < :start + :due THEN 30 ELSE 2880 END AS fr,
                CASE WHEN g < :start + :due THEN 240 ELSE 14400 END AS res) p
"""
# Each ticket's clock. Not due: the next check is days away, spread out.
CLOCKS_SQL = """
INSERT INTO ticket_slas (ticket_id, policy_id, tier, calendar, started_at, first_response_minutes,
                         resolution_minutes, first_response_due, resolution_due, pauses, paused,
                         first_responded_at, steps_done, flagged, next_check)
SELECT t.id, :policy, t.customer_tier, CASE WHEN t.customer_tier = 'vip' THEN '24x7' ELSE 'business' END,
       t.created_at, CASE WHEN t.customer_tier = 'vip' THEN 30 ELSE 2880 END,
       CASE WHEN t.customer_tier = 'vip' THEN 240 ELSE 14400 END, t.first_response_due, t.resolution_due,
       '[]', false, t.confirmed_at, '[]', false,
       CASE WHEN t.customer_tier = 'vip' THEN t.created_at + interval '22.5 minutes'
            ELSE timezone('UTC', now()) + interval '1 hour' + interval '1 second' * (t.id % 400000) END
FROM tickets t WHERE t.id BETWEEN :start AND :start + :n - 1
"""


def load(engine, policy_id: int, tickets: int, due: int, age_minutes: float, start: int) -> float:
    """Insert ``tickets`` open tickets with clocks; returns seconds."""
    started = time.monotonic()
    with engine.begin() as conn:
        params = {"start": start, "n": tickets, "due": due, "age": age_minutes, "policy": policy_id}
        conn.execute(sa.text(TICKETS_SQL), params)
        conn.execute(sa.text(CLOCKS_SQL), params)
        conn.execute(sa.text("SELECT setval(pg_get_serial_sequence('tickets', 'id'), (SELECT max(id) FROM tickets))"))
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(sa.text("VACUUM ANALYZE"))
    return time.monotonic() - started


def floor_read(engine, limit: int) -> float:
    """Best of five: one indexed read of the clocks due now (what any sweep must do)."""
    best = float("inf")
    with engine.connect() as conn:
        for _ in range(5):
            started = time.perf_counter()
            conn.execute(sa.text("SELECT * FROM ticket_slas WHERE next_check <= timezone('UTC', now()) "
                                 "ORDER BY next_check LIMIT :limit"), {"limit": limit}).all()
            best = min(best, time.perf_counter() - started)
    return best


def timed_sweep(profile: bool = False) -> tuple[float, dict]:
    from plugins.tier_sla.sweep import sweep_job

    started = time.perf_counter()
    if profile:  # where the time goes, on stderr (the timing then includes the profiler's cost)
        import cProfile
        import pstats

        with cProfile.Profile() as prof:
            counts = sweep_job()
        elapsed = time.perf_counter() - started
        stats = pstats.Stats(prof, stream=sys.stderr).sort_stats("tottime")
        stats.print_stats(30)
        return elapsed, counts
    counts = sweep_job()
    return time.perf_counter() - started, counts


def run(opts) -> tuple[list[list[str]], list[str]]:
    from service.migrations import upgrade  # the core chain and every plugin branch

    from plugins.tier_sla import policy as policies
    from service.extensions import db

    rows, checks = [], []
    workdir = Path(tempfile.mkdtemp(prefix="kefu-sweep-bench-"))
    with postgresql_cluster() as port, _removed(workdir):
        url = f"postgresql+psycopg://postgres@127.0.0.1:{port}/kefu_test"
        # Mail goes to the dev log in the temp dir; jobs to the in-process queue (no Redis).
        with kefu_app(url, workdir):
            upgrade()
            engine = sa.create_engine(url)
            with engine.begin() as conn:
                for statement in filter(None, (s.strip() for s in SETUP_SQL.split(";"))):
                    conn.execute(sa.text(statement))
            policy_id = policies.current().id  # the default policy, saved as version 1
            db.session.commit()
            scenarios = [("warning due", 25.0), ("warning + breach due", 35.0)]
            start = 1
            for name, age in scenarios:
                with engine.begin() as conn:  # the previous scenario's tickets leave
                    conn.execute(sa.text("TRUNCATE ticket_slas, ticket_events, jobs_outbox, job_effects, tickets CASCADE"))
                log(f"{name}: loading {opts.tickets:,} open tickets, {opts.due:,} falling due")
                seconds = load(engine, policy_id, opts.tickets, opts.due, age, start)
                start += opts.tickets
                rows.append([f"load ({name})", "", f"{seconds:.1f}", "", ""])
                floor = floor_read(engine, opts.due)
                db.session.remove()
                elapsed, counts = timed_sweep(opts.profile)
                ok = elapsed < TARGET_SECONDS
                rows.append([f"sweep ({name})", f"{counts['clocks']:,} clocks, {counts['steps']:,} steps",
                             f"{elapsed:.3f}", f"{'PASS' if ok else 'MISS'} (< {TARGET_SECONDS} s)",
                             f"floor read {floor * 1000:.1f} ms, ratio {elapsed / floor:.0f}x"])
                checks.append(f"sweep with {opts.tickets:,} open tickets, {name}: {elapsed:.3f} s for "
                              f"{counts['steps']:,} steps on {counts['clocks']:,} clocks: {'PASS' if ok else 'MISS'}")
                log(checks[-1])
                quiet, counts = timed_sweep()
                rows.append([f"sweep again ({name}, nothing due)", f"{counts['steps']:,} steps",
                             f"{quiet:.3f}", "", "a quiet minute"])
                with engine.connect() as conn:
                    events = conn.execute(sa.text("SELECT action, count(*) FROM ticket_events "
                                                  "WHERE action LIKE 'sla_%' GROUP BY 1 ORDER BY 1")).all()
                checks.append(f"{name}: history " + ", ".join(f"{a} {c:,}" for a, c in events))
            engine.dispose()
    return rows, checks


def render(rows, checks, opts, elapsed: float) -> tuple[str, str]:
    """The result as ``(plain-text table, Markdown document)``."""
    title = f"{opts.tickets:,} open tickets, {opts.due:,} falling due (PostgreSQL)"
    return render_result(
        "bench/sweep_bench.py", title,
        title + ", throwaway cluster (fsync=off), default SLA policy, no Redis (in-process queue).",
        ["step", "work", "seconds", "target", "note"], "|---|---|---:|---|---|", rows, checks, elapsed)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tickets", type=int, default=1_000_000)
    parser.add_argument("--due", type=int, default=1_000)
    parser.add_argument("--quick", action="store_true", help="100,000 tickets")
    parser.add_argument("--profile", action="store_true", help="print a cProfile of the first sweep to stderr")
    opts = parser.parse_args(argv)
    if opts.quick:
        opts.tickets = 100_000
    if not 1 <= opts.due <= opts.tickets:
        parser.error("need 1 <= --due <= --tickets")
    started = time.monotonic()
    rows, checks = run(opts)
    text, md = render(rows, checks, opts, time.monotonic() - started)
    return finish(rows, text, md, "sweep-latest.md")


if __name__ == "__main__":
    sys.exit(main())
