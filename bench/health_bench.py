"""Relationship health benchmark: the set-based recompute on PostgreSQL at
1,000,000 customers and 10,000,000 transactions (target: under 60 s, memory
bounded).

What it measures
----------------
1. starts a throwaway PostgreSQL cluster with ``scripts/pg.sh`` (a free
   127.0.0.1 port, a temp dir; stopped by its pid at the end, also on errors)
   and migrates kefu's schema into it;
2. bulk-loads the customers and transactions exactly as ``tier_bench.py``
   does (``generate_series``, a seeded ``random()``: purchases skewed towards
   low ids, amounts log-uniform, dates over the last 450 days), then marks
   about 3 % of the transactions as returns, exchanges and cancellations;
3. runs ``plugins.relationship_health.recompute.recompute()`` (what the
   periodic job, ``kefu health recompute`` and ``POST /api/v1/health/recompute``
   run) in a **child process of its own**, three times, and reads that
   process's peak RSS from the kernel (``os.wait4``): the memory the
   recompute needs, without the benchmark's own;

   * **first**: no health rows yet (every customer gets one; changes are
     recorded for those not healthy);
   * **unchanged**: nothing changed since: nothing is recorded;
   * **next day**: after 1 % more transactions, dated today.

The table goes to stdout and is appended, as Markdown, to ``bench/README.md``
(``--no-readme`` to leave it alone); progress goes to stderr.

Running it
----------
From the repository root (PostgreSQL 15 from Debian installed)::

    .venv/bin/python bench/health_bench.py            # 1,000,000 customers, 10,000,000 transactions
    .venv/bin/python bench/health_bench.py --quick    # 100,000 / 1,000,000
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import sqlalchemy as sa

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
sys.path.insert(0, str(BENCH))
sys.path.insert(0, str(ROOT))

import tier_bench  # noqa: E402  (the cluster, the app, the load and the table are shared)
from tier_bench import kefu_app, log, postgresql_cluster, render_result  # noqa: E402

TARGET_SECONDS = 60
README = BENCH / "README.md"
MARK_TYPES_SQL = """
UPDATE tier_transactions SET type = CASE id % 3 WHEN 0 THEN 'return' WHEN 1 THEN 'exchange' ELSE 'cancellation' END
WHERE id % 33 = 0
"""
CHILD = """
import json, sys, time
sys.path.insert(0, {root!r})
from service import create_app
from service.extensions import db
app = create_app({{"DATABASE_URL": {url!r}, "INSTANCE_PATH": {instance!r}, "SECRET_KEY": "bench"}})
with app.app_context():
    from plugins.relationship_health.recompute import recompute
    result = recompute()
    levels = dict(db.session.execute(db.text("SELECT level, count(*) FROM customer_health GROUP BY 1")).all())
    db.session.remove()
    db.engine.dispose()
print(json.dumps({{**result, "levels": levels}}))
"""


def recompute_in_child(url: str, instance: Path) -> tuple[dict, int]:
    """Run the recompute in a child process; returns its result and peak RSS (KiB)."""
    with tempfile.TemporaryFile("w+") as out:
        child = subprocess.Popen([sys.executable, "-c", CHILD.format(root=str(ROOT), url=url,
                                                                     instance=str(instance))],
                                 stdout=out, cwd=ROOT, env={**os.environ, "PYTHONWARNINGS": "ignore"})
        _, status, usage = os.wait4(child.pid, 0)
        child.returncode = os.waitstatus_to_exitcode(status)
        if child.returncode != 0:
            raise RuntimeError(f"the recompute failed (exit {child.returncode})")
        out.seek(0)
        return json.loads(out.read().strip().splitlines()[-1]), usage.ru_maxrss  # KiB on Linux


def run(opts) -> tuple[list[list[str]], list[str]]:
    """Set up, load, measure; returns table rows and check lines."""
    from service.migrations import upgrade

    rows, checks = [], []
    workdir = Path(tempfile.mkdtemp(prefix="kefu-health-bench-"))
    with postgresql_cluster() as port, tier_bench._removed(workdir):
        url = f"postgresql+psycopg://postgres@127.0.0.1:{port}/kefu_test"
        with kefu_app(url, workdir):
            upgrade()
        engine = sa.create_engine(url)
        log(f"loading {opts.customers:,} customers and {opts.transactions:,} transactions")
        for step, seconds in tier_bench.load(engine, opts.customers, opts.transactions).items():
            rows.append([step, "", "", f"{seconds:.1f}", "", ""])
            log(f"{step}: {seconds:.1f} s")
        started = time.monotonic()
        with engine.begin() as conn:
            marked = conn.execute(sa.text(MARK_TYPES_SQL)).rowcount
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(sa.text("VACUUM ANALYZE tier_transactions"))
        rows.append([f"mark {marked:,} returns, exchanges, cancellations", "", "",
                     f"{time.monotonic() - started:.1f}", "", ""])
        for name in ("first", "unchanged", "next day"):
            if name == "next day":
                log(f"one more day: {tier_bench.one_more_day(engine, opts.customers, opts.transactions):,} "
                    "transactions")
            result, peak_kib = recompute_in_child(url, workdir / "instance")
            seconds = result["seconds"]
            ok = seconds < TARGET_SECONDS
            rows.append([f"recompute ({name})", f"{result['customers']:,}", f"{result['changed']:,}",
                         f"{seconds:.1f}", f"{peak_kib / 1024:.0f} MiB",
                         f"{'PASS' if ok else 'MISS'} (< {TARGET_SECONDS} s)"])
            checks.append(f"recompute ({name}): {result['customers']:,} customers in {result['chunks']} ranges, "
                          f"{seconds:.1f} s, peak RSS {peak_kib / 1024:.0f} MiB, {result['changed']:,} level "
                          f"changes; levels {json.dumps(result['levels'], sort_keys=True)}: "
                          f"{'PASS' if ok else 'MISS'}")
            log(checks[-1])
        engine.dispose()
    return rows, checks


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--customers", type=int, default=1_000_000)
    parser.add_argument("--transactions", type=int, default=10_000_000)
    parser.add_argument("--quick", action="store_true", help="100,000 customers, 1,000,000 transactions")
    parser.add_argument("--no-readme", action="store_true", help="do not append the table to bench/README.md")
    opts = parser.parse_args(argv)
    if opts.quick:
        opts.customers, opts.transactions = 100_000, 1_000_000
    if opts.customers < 1 or opts.transactions < 1:
        parser.error("--customers and --transactions must be positive")
    started = time.monotonic()
    rows, checks = run(opts)
    text, md = render_result(
        "bench/health_bench.py",
        f"Relationship health: {opts.customers:,} customers, {opts.transactions:,} transactions (PostgreSQL)",
        (f"{opts.customers:,} customers, {opts.transactions:,} transactions (3 % returns, exchanges and "
         "cancellations), PostgreSQL (throwaway cluster, fsync=off), default health settings (shipped "
         "signals.json, HEALTH_CHUNK 50,000); each recompute in a child process whose peak RSS is shown."),
        ["step", "customers", "level changes", "seconds", "peak RSS", "target"], "|---|---:|---:|---:|---:|---|",
        rows, checks, time.monotonic() - started)
    print(text)
    if not opts.no_readme:
        with README.open("a", encoding="utf-8") as f:
            f.write("\n## Relationship health recompute (`bench/health_bench.py`)\n\n" + md)
        log(f"appended to {README}")
    return 0 if all("MISS" not in r[5] for r in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
