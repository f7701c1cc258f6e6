"""Queue and ticket page benchmark: the console's two working pages against the floor, on SQLite and PostgreSQL.

What it measures
----------------
The agent's day is the queue and the ticket page (issue 16). On the
databases of ``bench/console_bench.py`` (its seeding, servers, sign-in and
interleaved measuring are reused, and through it ``bench/api_bench.py``'s) -
``--tickets`` (100,000) tickets and, for the scaling check, ``--small``
(1,000), the same 20,000 customers in both, with the plugins' rows (tiers,
transactions, credit ratings; a tenth of the tickets ask for a remedy, so
the credit panel shows) - kefu runs under gunicorn in its default
configuration (every plugin enabled: the demo's tier/SLA, credit, survey,
relationship-health and webhook plugins; jobs left to workers), signed in as
an **agent** who is the assignee of every seeded ticket being worked, and
gets

* ``queue``: ``GET /console/`` (the agent's first queue, "mine": a page of
  tickets with the counts of every queue, badges, SLA state, filters);
* ``ticket``: ``GET /console/tickets/<random number>`` (header, thread,
  timeline, actions, the plugins' panels);
* ``frame`` (a reference, no target): ``GET /console/notifications``, the
  agent's empty list of notices - the console's frame (session, header,
  bell, sidebar with the queue counts and saved views, the plugins' links)
  with next to nothing inside: what every console page costs before its
  own content, against the floor's single-row read;

the floor (``bench/floor_app.py``) the equivalent single-statement requests
``GET /tickets?limit=25`` and ``GET /tickets/<number>`` (also for ``frame``).

Targets (issue 16, "Done when"): at 100,000 tickets each page at >= 0.3 of
the floor's req/s, and each page's p99 at 100,000 tickets within 1.5x of its
p99 at 1,000. The table prints both sizes, the ratios and PASS/MISS; it is
also written as Markdown to ``bench/results/queue-ticket-latest.md``
(git-ignored).

``--profile`` then opens each page once more in this process, on the
SQLite database at the full size, under cProfile, and prints where the time
goes (the top functions by own time and by cumulative time).

Running it
----------
From the repository root::

    .venv/bin/python bench/queue_ticket_bench.py                          # both backends, 100,000 tickets
    .venv/bin/python bench/queue_ticket_bench.py --quick --backends sqlite   # a couple of minutes
    .venv/bin/python bench/queue_ticket_bench.py --backends sqlite --profile

Everything it starts (gunicorn masters, client processes, the PostgreSQL
cluster) is stopped by its pid when the run ends, also on errors.
"""
from __future__ import annotations

import argparse
import cProfile
import os
import pstats
import shutil
import sys
import tempfile
import time
from pathlib import Path

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH))
import api_bench as ab  # noqa: E402
import console_bench as cb  # noqa: E402

ENDPOINTS = ("queue", "ticket", "frame")
REFERENCES = ("frame",)  # measured beside the pages, no target of their own
RATE_TARGET = 0.3  # of the floor's req/s, at the full size
SCALE_TARGET = 1.5  # p99 at the full size over p99 at --small


class Target(cb.Target):
    """One running app (kefu or the floor) holding ``tickets`` tickets."""

    def __init__(self, app: str, server, tickets: int, cookie: str = ""):
        super().__init__(app, server, (1, 1), cookie)
        self.tickets = tickets

    @property
    def key(self):
        """``(app, tickets)``: two sizes of each app are measured together."""
        return self.app, self.tickets

    def spec(self, endpoint: str):
        """``make_spec(rng) -> (method, path, body, headers)`` for ``endpoint``."""
        kefu = self.app == "kefu"
        headers = {"Cookie": self.cookie, "Accept": "text/html"} if kefu else {"Accept": "application/json"}
        n = self.tickets
        if endpoint == "queue":
            path = "/console/" if kefu else f"/tickets?limit={ab.PAGE}"
            return lambda rng: ("GET", path, None, headers)
        if endpoint == "frame":
            if kefu:
                return lambda rng: ("GET", "/console/notifications", None, headers)
            return lambda rng: ("GET", f"/tickets/KF-{rng.randint(1, n):06d}", None, headers)
        if endpoint == "ticket":
            prefix = "/console/tickets/" if kefu else "/tickets/"
            return lambda rng: ("GET", f"{prefix}KF-{rng.randint(1, n):06d}", None, headers)
        raise ValueError(endpoint)


def profile(url: str, workdir: Path, email: str, tickets: int, top: int = 25) -> str:
    """Each page opened once (after one warm-up request) in this process
    under cProfile, on the database at ``url``: the top ``top`` functions by
    own time and by cumulative time, as text."""
    os.environ.update(KEFU_DATABASE_URL=url, KEFU_INSTANCE_PATH=str(workdir / f"instance-{tickets}"),
                      KEFU_JOBS_IN_PROCESS="false")
    from service.app import create_app

    app = create_app()
    client = app.test_client()
    page = client.get("/console/login").get_data(as_text=True)
    token = cb.re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    signed = client.post("/console/login", data={"email": email, "password": cb.PASSWORD, "csrf_token": token})
    assert signed.status_code == 302, signed.status_code
    out = []
    for name, path in (("queue", "/console/"), ("ticket", f"/console/tickets/KF-{tickets // 2:06d}")):
        assert client.get(path).status_code == 200  # warm: templates compiled, caches filled
        profiler = cProfile.Profile()
        started = time.perf_counter()
        profiler.enable()
        response = client.get(path)
        profiler.disable()
        elapsed = (time.perf_counter() - started) * 1000
        assert response.status_code == 200, response.status_code
        out.append(f"== {name} ({path}): {elapsed:.1f} ms under the profiler ==")
        out += _top(pstats.Stats(profiler), top)
    return "\n".join(out)


def _top(stats: pstats.Stats, top: int) -> list[str]:
    """The ``top`` functions by own time (any code), then by cumulative time
    (kefu's own code and templates only: the frames above them are Flask's
    and the test client's), in milliseconds."""
    rows = [(tt * 1000, ct * 1000, nc, f"{Path(file).name}:{line}({func})", file)
            for (file, line, func), (_cc, nc, tt, ct, _callers) in stats.stats.items()]
    ours = [r for r in rows if any(part in r[4] for part in ("/service/", "/plugins/", ".html"))]
    lines = ["  own ms   cum ms   calls  function (by own time)"]
    lines += [f"{t:8.2f} {c:8.2f} {n:7d}  {f}" for t, c, n, f, _ in sorted(rows, key=lambda r: -r[0])[:top]]
    lines += ["  own ms   cum ms   calls  function (kefu's code by cumulative time)"]
    lines += [f"{t:8.2f} {c:8.2f} {n:7d}  {f}" for t, c, n, f, _ in sorted(ours, key=lambda r: -r[1])[:top]]
    return lines


def run_backend(backend: str, opts, results: dict) -> None:
    """Seed both sizes, serve kefu and the floor at each, measure both pages;
    fill ``results[(backend, tickets, endpoint)] = {"kefu": Stats, "floor": Stats}``."""
    workdir = Path(tempfile.mkdtemp(prefix=f"kefu-queue-ticket-bench-{backend}-"))
    try:
        with ab.backend_urls(backend, workdir, (opts.tickets, opts.small)) as urls:
            targets: list[Target] = []
            emails = {}
            try:  # servers stop before the database does
                for size in (opts.tickets, opts.small):
                    kefu, floor, _seed, emails[size] = cb.prepare(
                        urls[f"kefu_{size}"], urls[f"floor_{size}"], opts, workdir, size=size, role="agent")
                    kefu.start()
                    floor.start()
                    targets += [Target("kefu", kefu, size, cb.sign_in(kefu.port, emails[size])),
                                Target("floor", floor, size)]
                for endpoint in ENDPOINTS:
                    row = cb.measure(endpoint, targets, opts)
                    for (app, size), stats in row.items():
                        results.setdefault((backend, size, endpoint), {})[app] = stats
                        ab.log(f"{backend} {size:>7,} {endpoint:<6} {app:<5} {stats.rate:8.1f} req/s "
                               f"p50 {stats.p50_ms:7.1f} ms p99 {stats.p99_ms:7.1f} ms"
                               + (f"  ERRORS {dict(stats.errors)}: {stats.sample_error}" if stats.errors else ""))
            finally:
                for t in targets:
                    t.server.stop()
                if targets:
                    ab.log(f"{backend}: servers stopped")
            if opts.profile and backend == "sqlite":
                opts.profile_text = profile(urls[f"kefu_{opts.tickets}"], workdir, emails[opts.tickets], opts.tickets)
    finally:
        if opts.keep:
            ab.log(f"{backend}: kept {workdir}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)


def report(results: dict, opts, elapsed: float) -> tuple[str, str]:
    """The table (plain text and Markdown): per backend and page, kefu's and
    the floor's numbers at both sizes, the req/s ratio at the full size and
    the p99 growth, each with PASS/MISS."""
    header = ["backend", "page", "tickets", "kefu req/s", "kefu p50 ms", "kefu p99 ms", "floor req/s",
              "floor p99 ms", "kefu/floor req/s", "p99 full/small", "targets"]
    rows, problems = [], []
    for backend in opts.backends:
        for endpoint in ENDPOINTS:
            full, small = results.get((backend, opts.tickets, endpoint)), results.get((backend, opts.small, endpoint))
            if not full or not small:
                continue
            growth = full["kefu"].p99_ms / small["kefu"].p99_ms if small["kefu"].p99_ms else float("inf")
            for size, row in ((opts.small, small), (opts.tickets, full)):
                k, f = row["kefu"], row["floor"]
                ratio = k.rate / f.rate if f.rate else 0.0
                flag = " !" if k.errors or f.errors or k.truncated or f.truncated else ""
                if size == opts.tickets and endpoint in REFERENCES:
                    targets, growth_cell = "reference (no target)", f"{growth:.2f}"
                elif size == opts.tickets:
                    targets = (f"{ab._mark(ratio >= RATE_TARGET)} req/s >= {RATE_TARGET}; "
                               f"{ab._mark(growth <= SCALE_TARGET)} p99 <= {SCALE_TARGET}x")
                    growth_cell = f"{growth:.2f}"
                else:
                    targets, growth_cell = "", ""
                rows.append([backend, endpoint + flag, f"{size:,}", f"{k.rate:.1f}", f"{k.p50_ms:.1f}",
                             f"{k.p99_ms:.1f}", f"{f.rate:.1f}", f"{f.p99_ms:.1f}", f"{ratio:.2f}", growth_cell,
                             targets])
                problems += [f"{backend} {size} {endpoint} {app}: {dict(st.errors)} {st.sample_error}"
                             for app, st in row.items() if st.errors or st.truncated]
    setup = (f"{opts.tickets:,} and {opts.small:,} tickets, {max(200, opts.tickets // 5):,} customers; each app "
             f"under gunicorn ({ab.WORKERS} sync workers); {opts.clients} clients; {opts.requests} requests per "
             f"app, size and page in {opts.rounds} interleaved rounds; kefu signed in as an agent, every plugin "
             f"on. Load average {os.getloadavg()[0]:.2f} at the end.")
    return cb.render_table(header, rows, problems, setup, elapsed)


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--backends", default="sqlite,postgresql", help="sqlite, postgresql (default both)")
    parser.add_argument("--tickets", type=int, help="tickets (default 100000; quick 10000); customers are a fifth")
    parser.add_argument("--small", type=int, default=1000, help="tickets of the small databases (default 1000)")
    parser.add_argument("--requests", type=int, help="requests per app, size and page (default 400; quick 80)")
    parser.add_argument("--rounds", type=int, help="interleaved rounds (default 3; quick 2)")
    parser.add_argument("--clients", type=int, default=4, help="load-generating processes (default 4)")
    parser.add_argument("--warmup", type=int, help="warm-up requests per client (default 10; quick 3)")
    parser.add_argument("--max-seconds", type=float, default=60, help="time bound per app, size and page")
    parser.add_argument("--quick", action="store_true", help="10,000 tickets, 80 requests: a smoke run")
    parser.add_argument("--profile", action="store_true",
                        help="then profile one request of each page (SQLite, full size) and print the top costs")
    parser.add_argument("--keep", action="store_true", help="keep the temporary directory")
    args = parser.parse_args(argv)
    args.backends = [b.strip() for b in args.backends.split(",") if b.strip()]
    for b in args.backends:
        if b not in ("sqlite", "postgresql"):
            parser.error(f"unknown backend {b!r}")
    args.tickets = args.tickets or (10_000 if args.quick else 100_000)
    args.requests = args.requests or (80 if args.quick else 400)
    args.rounds = args.rounds or (2 if args.quick else 3)
    args.warmup = args.warmup if args.warmup is not None else (3 if args.quick else 10)
    args.profile_text = ""
    if args.requests < args.rounds * args.clients:
        parser.error("--requests must be at least --rounds x --clients")
    if args.small >= args.tickets:
        parser.error("--small must be below --tickets")
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
    if opts.profile_text:
        print("\n" + opts.profile_text)
    ab.RESULTS.mkdir(exist_ok=True)
    (ab.RESULTS / "queue-ticket-latest.md").write_text(md)
    return 0


if __name__ == "__main__":
    sys.exit(main())
