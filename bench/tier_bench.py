"""Tier benchmark: ``kefu tiers recompute`` on PostgreSQL at 1,000,000 customers and
10,000,000 transactions (target: under 60 s).

What it measures
----------------
1. starts a throwaway PostgreSQL cluster with ``scripts/pg.sh`` (a free
   127.0.0.1 port, a temp dir) and migrates kefu's schema into it;
2. bulk-loads ``--customers`` customers and ``--transactions`` transactions
   in SQL (``generate_series``, no Python rows): purchase counts skewed
   towards low customer ids (``random()^3``), amounts log-uniform from 1 to
   about 1,100 CNY, margins 5-30 %, dates spread over the last 450 days (so
   about a fifth fall outside the 365-day period), a seeded ``random()`` so
   runs load the same data. The transaction table's foreign key and indexes
   are dropped during the load and re-created after it, as the migration
   defines them (a bulk-load shortcut; the recompute sees the real schema);
3. times ``plugins.tier_sla.tiers.recompute()`` (what the nightly job and
   ``kefu tiers recompute`` run), in kefu's default settings (pyramid, spend,
   365 days), three times:

   * **first**: no tiers yet, so every customer gets a tier row and a
     history record;
   * **unchanged**: nothing changed since, so nothing is recorded;
   * **nightly**: after one more day of sales (1 % more transactions, dated
     today), the usual nightly run;

4. times the ``customer_tier`` decider's query (``effective_tier``) for
   2,000 random customers, the cost every new ticket pays.

The table goes to stdout and, as Markdown, to ``bench/results/tiers-latest.md``
(git-ignored); progress goes to stderr. The cluster runs with
``fsync=off`` (``scripts/pg.sh``): write-heavy steps are faster than on a
durable server.

Running it
----------
From the repository root (PostgreSQL 15 from Debian installed)::

    .venv/bin/python bench/tier_bench.py                  # 1,000,000 customers, 10,000,000 transactions
    .venv/bin/python bench/tier_bench.py --quick          # 100,000 / 1,000,000
    .venv/bin/python bench/tier_bench.py --customers 500000 --transactions 5000000

The cluster is stopped by its pid (``scripts/pg.sh stop``) when the run
ends, also on errors and Ctrl-C.
"""
from __future__ import annotations

import argparse
import os
import platform
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path

import sqlalchemy as sa

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
RESULTS = BENCH / "results"
TARGET_SECONDS = 60
sys.path.insert(0, str(ROOT))


def log(message: str) -> None:
    """Progress on stderr, so stdout carries only the result table."""
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def free_port() -> int:
    """A free TCP port on 127.0.0.1 (as ``scripts/free-port.py``)."""
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def postgresql_cluster():
    """A throwaway cluster via ``scripts/pg.sh``; yields its port; always stopped (by pid)."""
    pgdir = Path(tempfile.mkdtemp(prefix="kefu-tier-bench-pg-"))
    port = free_port()
    try:
        subprocess.run(["bash", str(ROOT / "scripts" / "pg.sh"), "start", str(pgdir), str(port)], check=True, cwd=ROOT)
        log(f"postgresql: cluster on 127.0.0.1:{port} ({pgdir})")
        yield port
    finally:
        subprocess.run(["bash", str(ROOT / "scripts" / "pg.sh"), "stop", str(pgdir)], check=False, cwd=ROOT)
        log("postgresql: cluster stopped")


@contextmanager
def _removed(path: Path):
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


@contextmanager
def kefu_app(url: str, workdir: Path):
    """A kefu app on ``url`` (default settings otherwise), inside its app context."""
    from service import create_app
    from service.extensions import db

    app = create_app({"DATABASE_URL": url, "INSTANCE_PATH": str(workdir / "instance"), "SECRET_KEY": "bench"})
    with app.app_context():
        try:
            yield app
        finally:
            db.session.remove()
            db.engine.dispose()


DROP_FOR_LOAD = """
ALTER TABLE tier_transactions DROP CONSTRAINT fk_tier_transactions_customer_id_customers;
ALTER TABLE tier_transactions DROP CONSTRAINT uq_tier_transactions_customer_id_reference;
DROP INDEX ix_tier_transactions_occurred_on_customer_id;
DROP INDEX ix_tier_transactions_customer_id_occurred_on;
"""
# As tier_sla's migrations create them.
RESTORE_AFTER_LOAD = """
ALTER TABLE tier_transactions ADD CONSTRAINT fk_tier_transactions_customer_id_customers
    FOREIGN KEY (customer_id) REFERENCES customers (id) ON DELETE CASCADE;
ALTER TABLE tier_transactions ADD CONSTRAINT uq_tier_transactions_customer_id_reference
    UNIQUE (customer_id, reference);
CREATE INDEX ix_tier_transactions_occurred_on_customer_id ON tier_transactions (occurred_on, customer_id);
CREATE INDEX ix_tier_transactions_customer_id_occurred_on
    ON tier_transactions (customer_id, occurred_on, type, amount_minor, currency);
"""
CUSTOMERS_SQL = """
INSERT INTO customers (kind, name, language, external_ref, created_at)
SELECT 'person', 'Customer ' || g, 'en', 'C' || g, now() - interval '1 second' * g
FROM generate_series(1, CAST(:n AS bigint)) AS g
"""
TRANSACTIONS_SQL = """
INSERT INTO tier_transactions (customer_id, occurred_on, amount_minor, margin_minor, currency, reference, created_at)
SELECT x.customer_id, x.occurred_on, x.amount, (x.amount * (0.05 + random() * 0.25))::bigint, 'CNY',
       'T' || x.g, now()
FROM (SELECT g, :first + LEAST(floor(:customers * power(random(), 3))::int, :customers - 1) AS customer_id,
             current_date - floor(random() * :days)::int AS occurred_on,
             floor(100 * exp(random() * 7))::bigint AS amount
      FROM generate_series(CAST(:start AS bigint), CAST(:stop AS bigint)) AS g) x
"""


def execute_script(conn, script: str) -> None:
    for statement in filter(None, (s.strip() for s in script.split(";"))):
        conn.execute(sa.text(statement))


def load(engine, customers: int, transactions: int) -> dict:
    """Bulk-load the data set; returns seconds per step."""
    timings = {}
    with engine.begin() as conn:
        conn.execute(sa.text("SELECT setseed(0.42)"))
        started = time.monotonic()
        conn.execute(sa.text(CUSTOMERS_SQL), {"n": customers})
        timings["load customers"] = time.monotonic() - started
        first = conn.execute(sa.text("SELECT min(id) FROM customers")).scalar()
        started = time.monotonic()
        execute_script(conn, DROP_FOR_LOAD)
        conn.execute(sa.text(TRANSACTIONS_SQL), {"first": first, "customers": customers, "days": 450,
                                                 "start": 1, "stop": transactions})
        execute_script(conn, RESTORE_AFTER_LOAD)
        timings["load transactions (+ indexes)"] = time.monotonic() - started
    started = time.monotonic()
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(sa.text("VACUUM ANALYZE"))
    timings["vacuum analyze"] = time.monotonic() - started
    return timings


def one_more_day(engine, customers: int, transactions: int) -> int:
    """1 % more transactions, dated today; returns how many."""
    extra = max(transactions // 100, 1)
    with engine.begin() as conn:
        first = conn.execute(sa.text("SELECT min(id) FROM customers")).scalar()
        conn.execute(sa.text(TRANSACTIONS_SQL), {"first": first, "customers": customers, "days": 1,
                                                 "start": transactions + 1, "stop": transactions + extra})
        conn.execute(sa.text("ANALYZE tier_transactions"))
    return extra


def time_decider(customers: int) -> tuple[float, float]:
    """Mean and p99 (microseconds) of ``effective_tier`` for 2,000 random customers,
    in one transaction (as inside the use case that opens a ticket)."""
    from plugins.tier_sla.tiers import effective_tier
    from service.extensions import db
    from service.models import Customer

    first = db.session.scalar(sa.select(sa.func.min(Customer.id)))
    rng = random.Random(7)
    samples = []
    for _ in range(2000):
        customer_id = first + rng.randrange(customers)
        started = time.perf_counter()
        effective_tier(customer_id)
        samples.append((time.perf_counter() - started) * 1e6)
    db.session.rollback()
    samples.sort()
    return statistics.fmean(samples), samples[int(len(samples) * 0.99) - 1]


def run(opts) -> tuple[list[list[str]], list[str]]:
    """Set up, load, measure; returns table rows and check lines."""
    from service.migrations import upgrade  # the core chain and every plugin branch

    from plugins.tier_sla.tiers import recompute

    rows, checks = [], []
    workdir = Path(tempfile.mkdtemp(prefix="kefu-tier-bench-"))  # the app's instance folder
    with postgresql_cluster() as port, _removed(workdir):
        url = f"postgresql+psycopg://postgres@127.0.0.1:{port}/kefu_test"
        with kefu_app(url, workdir) as app:
            upgrade()
            engine = sa.create_engine(url)
            log(f"loading {opts.customers:,} customers and {opts.transactions:,} transactions")
            for step, seconds in load(engine, opts.customers, opts.transactions).items():
                rows.append([step, "", f"{seconds:.1f}", "", ""])
                log(f"{step}: {seconds:.1f} s")
            for run_name in ("first", "unchanged", "nightly"):
                if run_name == "nightly":
                    log(f"one more day: {one_more_day(engine, opts.customers, opts.transactions):,} transactions")
                result = recompute()
                seconds = result["seconds"]
                ok = seconds < TARGET_SECONDS
                rows.append([f"recompute ({run_name})", f"{result['changed']:,}", f"{seconds:.1f}",
                             f"{'PASS' if ok else 'MISS'} (< {TARGET_SECONDS} s)", ""])
                checks.append(f"recompute ({run_name}) of {result['customers']:,} customers: {seconds:.1f} s, "
                              f"{result['changed']:,} tier changes recorded: {'PASS' if ok else 'MISS'}")
                log(checks[-1])
            with engine.connect() as conn:
                counts = conn.execute(sa.text("SELECT computed_tier, count(*) FROM customer_tiers GROUP BY 1 "
                                              "ORDER BY 2")).all()
            mean, p99 = time_decider(opts.customers)
            rows.append(["decider query (effective_tier)", "", "", "", f"mean {mean:.0f} us, p99 {p99:.0f} us"])
            checks.append("tiers: " + ", ".join(f"{tier} {count:,}" for tier, count in counts))
            engine.dispose()
            del app
    return rows, checks


def finish(rows, text: str, md: str, name: str) -> int:
    """Print the table, write its Markdown to ``results/<name>`` and answer
    the exit status: 1 if any target was missed."""
    print(text)
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / name).write_text(md)
    log(f"written to {RESULTS / name}")
    return 0 if all("MISS" not in r[3] for r in rows) else 1


def render_result(script: str, title: str, setting: str, header: list[str], align: str, rows, checks,
                  elapsed: float) -> tuple[str, str]:
    """A PostgreSQL benchmark's result as ``(plain-text table, Markdown document)``:
    ``title`` heads the table, ``setting`` says how it ran, ``align`` is the
    Markdown alignment row (e.g. ``"|---|---:|"``). Shared with ``sweep_bench``."""
    widths = [max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(header)]

    def line(cells):
        return "  ".join(c.ljust(w) for c, w in zip(cells, widths)).rstrip()

    text = "\n".join([title, line(header), line(["-" * w for w in widths]), *map(line, rows), "", *checks,
                      f"Total time {elapsed:.0f} s."])
    from importlib.metadata import version

    machine = (f"{platform.system()} {platform.release()}, {os.cpu_count()} CPUs, Python "
               f"{platform.python_version()}, SQLAlchemy {version('sqlalchemy')}, psycopg {version('psycopg')}")
    md = "\n".join([f"Run {datetime.now():%Y-%m-%d %H:%M}, {elapsed:.0f} s, on {machine}:", "",
                    "```", " ".join([script, *sys.argv[1:]]), "```", "", setting, "",
                    "| " + " | ".join(header) + " |", align,
                    *["| " + " | ".join(r) + " |" for r in rows], "", *[f"- {c}" for c in checks], ""])
    return text, md


def render(rows, checks, opts, elapsed: float) -> tuple[str, str]:
    """The result as ``(plain-text table, Markdown document)``."""
    return render_result(
        "bench/tier_bench.py", f"{opts.customers:,} customers, {opts.transactions:,} transactions (PostgreSQL)",
        (f"{opts.customers:,} customers, {opts.transactions:,} transactions, PostgreSQL "
         "(throwaway cluster, fsync=off), default tier settings (pyramid, spend, 365 days)."),
        ["step", "tier changes", "seconds", "target", "note"], "|---|---:|---:|---|---|", rows, checks, elapsed)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--customers", type=int, default=1_000_000)
    parser.add_argument("--transactions", type=int, default=10_000_000)
    parser.add_argument("--quick", action="store_true", help="100,000 customers, 1,000,000 transactions")
    opts = parser.parse_args(argv)
    if opts.quick:
        opts.customers, opts.transactions = 100_000, 1_000_000
    if opts.customers < 1 or opts.transactions < 1:
        parser.error("--customers and --transactions must be positive")
    started = time.monotonic()
    rows, checks = run(opts)
    text, md = render(rows, checks, opts, time.monotonic() - started)
    return finish(rows, text, md, "tiers-latest.md")


if __name__ == "__main__":
    sys.exit(main())
