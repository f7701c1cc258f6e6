"""Console benchmark: the customer pages and the dashboard against the floor, on SQLite and PostgreSQL.

What it measures
----------------
On the benchmark database of ``bench/api_bench.py`` (its seeding, servers,
load generator and floor app are reused: read its docstring) - ``--tickets``
(100,000) tickets and a fifth as many customers (20,000) - with the plugins'
rows a customer page shows: a tier row per customer (value and rank), two
transactions per customer, a credit rating for every third one. kefu runs
under gunicorn in its default configuration (every plugin enabled, jobs left
to workers), signed in as a supervisor (a console session cookie), and gets

* ``list``: ``GET /console/customers`` (first page: the plugins' tier, value,
  class and grade columns, open tickets, last contact);
* ``profile``: ``GET /console/customers/<random id>`` (contacts, tickets,
  complaint trend, notes, the tier, transactions, satisfaction and credit
  sections);
* ``dashboard``: ``GET /console/dashboard`` (the core's and plugins' charts);
* ``queue`` (a reference, no target): ``GET /console/queue/all``, the console's
  existing ticket list, to read the customer pages against what any console
  page costs (sign-in check, Babel, Jinja, security headers);

and the floor the equivalent single-statement requests: ``GET /customers``
(a page of 25), ``GET /customers/<id>``, ``GET /tickets/by-status`` and
``GET /tickets?limit=25``.

Targets (issue 20): ``list`` and ``profile`` at >= 0.3 of the floor's req/s;
``dashboard`` p99 < 1 s. The table prints kefu's and the floor's req/s, p50
and p99, the ratio and PASS/MISS; it is also written as Markdown to
``bench/results/console-latest.md`` (git-ignored).

Running it
----------
From the repository root::

    .venv/bin/python bench/console_bench.py                       # both backends, 100,000 tickets
    .venv/bin/python bench/console_bench.py --quick --backends sqlite   # about a minute

Everything it starts is stopped by its pid when the run ends (also on errors).
"""
from __future__ import annotations

import argparse
import http.client
import os
import re
import shutil
import sys
import tempfile
import time
import urllib.parse
from pathlib import Path

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH))
import api_bench as ab

RATE_TARGETS = {"list": 0.3, "profile": 0.3}
DASHBOARD_P99_MS = 1000
ENDPOINTS = ("list", "profile", "dashboard", "queue")
PASSWORD = "bench console password"


def seed_plugin_rows(url: str, first: int, last: int) -> None:
    """Tier rows (value, rank) for every customer, two transactions each and a
    credit rating for every third, as the plugins store them."""
    from plugins.credit_check.models import CreditRating
    from plugins.tier_sla.models import CustomerTier, Transaction

    now = ab.datetime.now(ab.timezone.utc)
    ids = range(first, last + 1)
    values = {cid: (cid * 7919) % 1_000_000 for cid in ids}
    ranked = sorted(ids, key=lambda c: -values[c])
    rank = {cid: n for n, cid in enumerate(ranked, 1)}
    tiers = ("vip", "major", "ordinary", "small")
    engine = ab.seed_engine(url)
    with engine.begin() as conn:
        conn.execute(CustomerTier.__table__.insert(), [
            {"customer_id": cid, "computed_tier": tiers[min(3, rank[cid] * 100 // len(ranked) // 5)],
             "value_minor": values[cid], "rank": rank[cid], "computed_at": now} for cid in ids])
        for chunk in ab._chunks({"customer_id": cid, "occurred_on": (now - ab.timedelta(days=n * 40)).date(),
                                 "amount_minor": values[cid] // 2, "currency": "CNY",
                                 "reference": f"INV-{cid}-{n}", "created_at": now}
                                for cid in ids for n in (1, 2)):
            conn.execute(Transaction.__table__.insert(), chunk)
        conn.execute(CreditRating.__table__.insert(), [
            {"customer_id": cid, "quarter": "2026Q4", "figures_quarter": "2026Q3", "status": "rated",
             "grade": ("AAA", "AA", "A", "B", "C")[cid % 5], "score": 50 + cid % 50, "source": "scorecard",
             "rated_at": now, "rated_by": "bench"} for cid in ids if cid % 3 == 0])
    ab._analyze(engine)
    engine.dispose()


def sign_in(port: int, email: str) -> str:
    """Sign in on the console as ``email``; the ``Cookie`` header of the session."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    conn.request("GET", "/console/login")
    response = conn.getresponse()
    page = response.read().decode()
    cookies = _cookies(response)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    body = urllib.parse.urlencode({"email": email, "password": PASSWORD, "csrf_token": token})
    conn.request("POST", "/console/login", body=body, headers={
        "Content-Type": "application/x-www-form-urlencoded", "Cookie": _header(cookies)})
    response = conn.getresponse()
    response.read()
    if response.status != 302:
        raise RuntimeError(f"console sign-in answered {response.status}")
    cookies.update(_cookies(response))
    conn.close()
    return _header(cookies)


def _cookies(response) -> dict:
    out = {}
    for name, value in response.getheaders():
        if name.lower() == "set-cookie":
            pair = value.split(";", 1)[0]
            key, _, val = pair.partition("=")
            out[key.strip()] = val.strip()
    return out


def _header(cookies: dict) -> str:
    return "; ".join(f"{k}={v}" for k, v in cookies.items())


class Target:
    """One running app (kefu or the floor) with the customers' id range."""

    def __init__(self, app: str, server, customers: tuple[int, int], cookie: str = ""):
        self.app, self.server, self.customers, self.cookie = app, server, customers, cookie

    @property
    def key(self):
        """What ``measure`` files this target's numbers under (the app's name)."""
        return self.app

    def spec(self, endpoint: str):
        """``make_spec(rng) -> (method, path, body, headers)`` for ``endpoint``."""
        kefu = self.app == "kefu"
        headers = {"Cookie": self.cookie, "Accept": "text/html"} if kefu else {"Accept": "application/json"}
        first, last = self.customers
        if endpoint == "list":
            path = "/console/customers" if kefu else f"/customers?limit={ab.PAGE}"
            return lambda rng: ("GET", path, None, headers)
        if endpoint == "profile":
            prefix = "/console/customers/" if kefu else "/customers/"
            return lambda rng: ("GET", f"{prefix}{rng.randint(first, last)}", None, headers)
        if endpoint == "dashboard":
            path = "/console/dashboard" if kefu else "/tickets/by-status"
            return lambda rng: ("GET", path, None, headers)
        if endpoint == "queue":  # a reference without a target: the console's existing ticket queue
            path = "/console/queue/all" if kefu else f"/tickets?limit={ab.PAGE}"
            return lambda rng: ("GET", path, None, headers)
        raise ValueError(endpoint)


def prepare(url: str, floor_url: str, opts, workdir: Path, size: int | None = None, role: str = "supervisor"):
    """Migrate and seed kefu and the floor with ``size`` tickets (default
    ``opts.tickets``; customers are always a fifth of ``opts.tickets``, so
    that two sizes differ only in tickets); a ``role`` staff member with a
    password, the assignee of the seeded tickets being worked; the plugins'
    rows. Answers the two servers (not started), the seed and the e-mail to
    sign in with. ``bench/queue_ticket_bench.py`` uses it too."""
    size = size or opts.tickets
    # PYTHONPATH: this checkout's kefu, whichever one the venv has installed.
    env = ab.clean_env(KEFU_DATABASE_URL=url, KEFU_INSTANCE_PATH=str(workdir / f"instance-{size}"),
                       PYTHONPATH=str(ab.ROOT))
    ab.kefu_cli(env, "db", "upgrade")
    email = f"bench-{role}@example.test"
    ab.kefu_cli(env, "staff", "create", "--email", email, "--name", f"Bench {role.title()}", "--role", role,
                "--password", PASSWORD)
    ab.floor_app.init_db(floor_url)
    seed = ab.seed_reference(url, email, customers=max(200, opts.tickets // 5), final_tickets=opts.tickets)
    ab.copy_customers(url, floor_url)
    ab.seed_tickets(url, floor_url, seed, size)
    seed_plugin_rows(url, *seed.customer_ids)
    ab.log(f"seeded the plugins' rows for {seed.customer_ids[1] - seed.customer_ids[0] + 1:,} customers")
    kefu = ab.Server(f"kefu-console-{size}", "service.app:create_app()", {**env, "KEFU_JOBS_IN_PROCESS": "false"},
                     workdir, "/console/login", capture_output=True)
    floor = ab.Server(f"floor-console-{size}", "floor_app:create_app()", ab.clean_env(FLOOR_DATABASE_URL=floor_url),
                      workdir, "/customers?limit=1", pythonpath=BENCH)
    return kefu, floor, seed, email


def measure(endpoint: str, targets: list[Target], opts) -> dict:
    """``endpoint`` on each target, in interleaved rounds (as
    ``api_bench.measure_endpoint``): ``{target.key: Stats}``."""
    samples = {t.key: ab.Sample() for t in targets}
    for r in range(opts.rounds):
        share = opts.requests // opts.rounds + (1 if r < opts.requests % opts.rounds else 0)
        for t in (targets if r % 2 == 0 else targets[::-1]):
            ab.run_chunk(samples[t.key], t.server.port, t.spec(endpoint), share, opts.clients,
                         opts.warmup if r == 0 else 1, opts.max_seconds / opts.rounds, rng_seed=r)
    return {key: s.stats() for key, s in samples.items()}


def run_backend(backend: str, opts, results: dict) -> None:
    workdir = Path(tempfile.mkdtemp(prefix=f"kefu-console-bench-{backend}-"))
    try:
        with ab.backend_urls(backend, workdir, (opts.tickets,)) as urls:
            kefu, floor, seed, email = prepare(urls[f"kefu_{opts.tickets}"], urls[f"floor_{opts.tickets}"],
                                               opts, workdir)
            try:
                kefu.start()
                floor.start()
                targets = [Target("kefu", kefu, seed.customer_ids, sign_in(kefu.port, email)),
                           Target("floor", floor, seed.customer_ids)]
                for endpoint in ENDPOINTS:
                    results[(backend, endpoint)] = row = measure(endpoint, targets, opts)
                    for app, stats in row.items():
                        ab.log(f"{backend} {endpoint:<9} {app:<5} {stats.rate:8.1f} req/s p50 {stats.p50_ms:7.1f} ms "
                               f"p99 {stats.p99_ms:7.1f} ms"
                               + (f"  ERRORS {dict(stats.errors)}: {stats.sample_error}" if stats.errors else ""))
            finally:
                kefu.stop()
                floor.stop()
                ab.log(f"{backend}: servers stopped")
    finally:
        if opts.keep:
            ab.log(f"{backend}: kept {workdir}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)


def report(results: dict, opts, elapsed: float) -> tuple[str, str]:
    """The table (plain text and Markdown) with each target's PASS/MISS."""
    header = ["backend", "endpoint", "kefu req/s", "kefu p50 ms", "kefu p99 ms", "floor req/s", "floor p50 ms",
              "floor p99 ms", "kefu/floor req/s", "target"]
    rows = []
    for (backend, endpoint), row in results.items():
        k, f = row["kefu"], row["floor"]
        ratio = k.rate / f.rate if f.rate else 0.0
        if endpoint in RATE_TARGETS:
            goal = RATE_TARGETS[endpoint]
            target = f"{ab._mark(ratio >= goal)} (req/s >= {goal} of the floor)"
        elif endpoint == "queue":
            target = "reference (no target)"
        else:
            target = f"{ab._mark(k.p99_ms < DASHBOARD_P99_MS)} (p99 < {DASHBOARD_P99_MS} ms)"
        flag = " !" if k.errors or f.errors or k.truncated or f.truncated else ""
        rows.append([backend, endpoint + flag, f"{k.rate:.1f}", f"{k.p50_ms:.1f}", f"{k.p99_ms:.1f}",
                     f"{f.rate:.1f}", f"{f.p50_ms:.1f}", f"{f.p99_ms:.1f}", f"{ratio:.2f}", target])
    problems = [f"{b} {e} {app}: {dict(st.errors)} {st.sample_error}"
                for (b, e), row in results.items() for app, st in row.items() if st.errors or st.truncated]
    setup = (f"{opts.tickets:,} tickets, {max(200, opts.tickets // 5):,} customers; each app under gunicorn "
             f"({ab.WORKERS} sync workers); {opts.clients} clients; {opts.requests} requests per app and endpoint "
             f"in {opts.rounds} interleaved rounds; kefu signed in as a supervisor. Load average "
             f"{os.getloadavg()[0]:.2f} at the end.")
    return render_table(header, rows, problems, setup, elapsed)


def render_table(header: list[str], rows: list[list[str]], problems: list[str], setup: str,
                 elapsed: float) -> tuple[str, str]:
    """A results table as aligned text (with the errors, the set-up and the
    total time) and as Markdown (with the set-up), for this benchmark and
    ``bench/queue_ticket_bench.py``."""
    widths = [max(len(h), *(len(r[i]) for r in rows)) if rows else len(h) for i, h in enumerate(header)]

    def line(cells):
        return "  ".join(c.ljust(w) for c, w in zip(cells, widths)).rstrip()

    text = "\n".join([line(header), line(["-" * w for w in widths]), *map(line, rows),
                      *(["", "Errors (marked !):", *problems] if problems else []), "", setup,
                      f"Total time {elapsed:.0f} s."])
    md = "\n".join(["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|",
                    *("| " + " | ".join(r) + " |" for r in rows), "", setup, ""])
    return text, md


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--backends", default="sqlite,postgresql", help="sqlite, postgresql (default both)")
    parser.add_argument("--tickets", type=int, help="tickets (default 100000; quick 10000); customers are a fifth")
    parser.add_argument("--requests", type=int, help="requests per app and endpoint (default 600; quick 120)")
    parser.add_argument("--rounds", type=int, help="interleaved rounds (default 3; quick 2)")
    parser.add_argument("--clients", type=int, default=4, help="load-generating processes (default 4)")
    parser.add_argument("--warmup", type=int, help="warm-up requests per client (default 10; quick 3)")
    parser.add_argument("--max-seconds", type=float, default=60, help="time bound per app and endpoint")
    parser.add_argument("--quick", action="store_true", help="about a minute: 10,000 tickets, 120 requests")
    parser.add_argument("--keep", action="store_true", help="keep the temporary directory")
    args = parser.parse_args(argv)
    args.backends = [b.strip() for b in args.backends.split(",") if b.strip()]
    for b in args.backends:
        if b not in ("sqlite", "postgresql"):
            parser.error(f"unknown backend {b!r}")
    args.tickets = args.tickets or (10_000 if args.quick else 100_000)
    args.requests = args.requests or (120 if args.quick else 600)
    args.rounds = args.rounds or (2 if args.quick else 3)
    args.warmup = args.warmup if args.warmup is not None else (3 if args.quick else 10)
    if args.requests < args.rounds * args.clients:
        parser.error("--requests must be at least --rounds x --clients")
    return args


def main(argv=None) -> int:
    opts = parse_args(argv)
    started = time.monotonic()
    results: dict = {}
    for backend in opts.backends:
        ab.log(f"== {backend} ==")
        run_backend(backend, opts, results)
    text, md = report(results, opts, time.monotonic() - started)
    print(text)
    ab.RESULTS.mkdir(exist_ok=True)
    (ab.RESULTS / "console-latest.md").write_text(md)
    return 0


if __name__ == "__main__":
    sys.exit(main())
