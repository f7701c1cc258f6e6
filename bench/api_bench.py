"""API benchmark: kefu under gunicorn against a bare Flask floor, on SQLite and PostgreSQL.

What it measures
----------------
For each database backend (SQLite files, then a throwaway PostgreSQL cluster
started with ``scripts/pg.sh``) it

1. makes two kefu databases (``kefu db upgrade``; an agent with an API token
   from ``kefu staff create``) and two floor databases (``bench/floor_app.py``);
2. seeds them in bulk (SQL executemany, not through the API): departments,
   customers, and ``--tickets`` (100,000) tickets into one kefu/floor pair and
   ``--small`` (1,000) into the other, with a realistic mix of statuses,
   priorities, SLA times, departments, assignees and remedies, and one
   ``created`` history event per ticket;
3. starts the four apps, each under gunicorn with 2 sync workers on a free
   127.0.0.1 port; kefu is ``service.app:create_app()`` in its default
   configuration (auth on, every discovered plugin enabled);
4. measures ``get`` (``GET /api/v1/tickets/<number>``, random numbers),
   ``list_first`` (first page of 25), ``list_deep`` (a page of 25 reached by a
   cursor 99 % of the way down) on both sizes, then ``customers`` (first
   page of 25 of ``GET /api/v1/customers``, with the plugins' tier and
   satisfaction class) and ``create`` (``POST /api/v1/tickets`` for a known
   ``customer_id``) on the full size; the floor gets the equivalent
   single-statement requests.

Each app, size and endpoint gets ``--requests`` requests from ``--clients``
processes (each one request at a time, ``http.client`` on loopback), after a
warm-up. The requests are split into ``--rounds`` rounds that alternate
between the apps and sizes, so load from other processes on the machine falls
on all of them alike. req/s is completed requests over the measured wall
time; p50 and p99 are the latencies the clients saw. ``--max-seconds`` bounds
each app, size and endpoint.

Targets (issue 19): ``create`` and ``get`` at >= 0.65 of the floor's req/s at
the full size, ``list_first``, ``list_deep`` and ``customers`` at >= 0.5; list p99 at the full size within 1.5x of list p99 at
``--small``. Each gets PASS or MISS in the printed table, which is also
written as Markdown to ``bench/results/latest.md`` (git-ignored; copy it into
``bench/README.md``).

Running it
----------
From the repository root, with the test extras installed (``make test-deps``;
PostgreSQL 15 from Debian for the second backend)::

    .venv/bin/python bench/api_bench.py                  # full run, about 7 minutes on 2 cores
    .venv/bin/python bench/api_bench.py --quick          # smoke run, about a minute
    .venv/bin/python bench/api_bench.py --backends sqlite --requests 2000

Everything it starts (gunicorn masters, client processes, the PostgreSQL
cluster) is stopped by its pid when the run ends, also on errors and Ctrl-C;
the temporary directory is removed unless ``--keep`` is given.
"""
from __future__ import annotations

import argparse
import base64
import hashlib
import http.client
import json
import math
import multiprocessing as mp
import os
import platform
import random
import runpy
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections import Counter
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path

import sqlalchemy as sa

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
BIN = Path(sys.executable).parent
RESULTS = BENCH / "results"

sys.path.insert(0, str(BENCH))
sys.path.insert(0, str(ROOT))
import floor_app  # noqa: E402  (bench/floor_app.py)
from service.models import Category, Customer, Department, Staff, Ticket, TicketEvent  # noqa: E402

WORKERS = 2
PAGE = 25
STATUS_WEIGHTS = {"new": 10, "confirmed": 8, "in_progress": 15, "waiting_on_customer": 5,
                  "resolved": 10, "closed": 47, "cancelled": 5}
PRIORITY_WEIGHTS = {"low": 20, "normal": 60, "high": 15, "urgent": 5}
KINDS = ("complaint", "service_request", "inquiry", "suggestion")
CHANNELS = ("web", "email", "phone", "api")
SEED_SPACING = timedelta(minutes=5)  # seeded tickets are this far apart in created_at
DEFAULT_SLA = runpy.run_path(str(ROOT / "config" / "default.py"))["DEFAULT_SLA_MINUTES"]
# kefu req/s / floor req/s at the full size, per endpoint (issue 19's goals).
RATE_TARGETS = {"create": 0.65, "get": 0.65, "list_first": 0.5, "list_deep": 0.5, "customers": 0.5}
LIST_P99_GROWTH = 1.5  # lists: p99 at the full size / p99 at the small size


def log(message: str) -> None:
    """Progress on stderr, so stdout carries only the result table."""
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def free_port() -> int:
    """A free TCP port on 127.0.0.1 (as ``scripts/free-port.py``)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def clean_env(**extra) -> dict:
    """This process's environment without any ``KEFU_*`` or ``FLOOR_*`` setting, plus ``extra``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("KEFU_", "FLOOR_"))}
    env.update(extra)
    return env


def kefu_cursor(ticket_id: int) -> str:
    """kefu's opaque cursor for "after ticket ``ticket_id``" (service.reads.listing.encode_cursor)."""
    return base64.urlsafe_b64encode(f"t{ticket_id}".encode()).decode().rstrip("=")


# --------------------------------------------------------------------------- servers

class Server:
    """One gunicorn master (``workers`` sync workers, default ``WORKERS``) on a
    free loopback port; ``capture_output`` keeps the workers' own output (a
    500's traceback) in the log."""

    def __init__(self, name: str, app_spec: str, env: dict, logdir: Path, ready_path: str,
                 pythonpath: Path | None = None, workers: int = WORKERS, capture_output: bool = False):
        self.name, self.app_spec, self.env, self.ready_path = name, app_spec, env, ready_path
        self.pythonpath, self.workers, self.capture_output = pythonpath, workers, capture_output
        self.port = free_port()
        self.logfile = logdir / f"{name}-gunicorn.log"
        self.proc: subprocess.Popen | None = None

    def ready(self) -> bool:
        """Whether the server, answering ``ready_path`` below 500, counts as started."""
        return True

    def start(self, timeout: float = 30) -> None:
        """Start gunicorn and wait until it answers ``ready_path`` below 500 and
        is ``ready`` (``RuntimeError`` with the log's tail when it exits or does not)."""
        cmd = [str(BIN / "gunicorn"), "--workers", str(self.workers), "--worker-class", "sync",
               "--bind", f"127.0.0.1:{self.port}", "--no-control-socket", "--log-level", "warning",
               "--error-logfile", str(self.logfile)]
        if self.capture_output:
            cmd.append("--capture-output")
        if self.pythonpath:
            cmd += ["--pythonpath", str(self.pythonpath)]
        cmd.append(self.app_spec)
        # A session of its own: Ctrl-C reaches only this script, which then stops gunicorn.
        self.proc = subprocess.Popen(cmd, cwd=ROOT, env=self.env, start_new_session=True,
                                     stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"{self.name}: gunicorn exited ({self.proc.returncode}); "
                                   f"see {self.logfile}:\n{self.logfile.read_text(errors='replace')[-2000:]}")
            try:
                conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=5)
                conn.request("GET", self.ready_path)
                status = conn.getresponse().status
                conn.close()
                if status < 500 and self.ready():
                    log(f"{self.name}: gunicorn pid {self.proc.pid} ({self.workers} workers) serving on "
                        f"127.0.0.1:{self.port}")
                    return
            except OSError:
                pass
            time.sleep(0.2)
        raise RuntimeError(f"{self.name}: not serving after {timeout} s; see {self.logfile}")

    def stop(self) -> None:
        """SIGTERM the master by its pid (graceful: workers finish), SIGKILL after 20 s."""
        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


@contextmanager
def postgresql_cluster():
    """A throwaway cluster via ``scripts/pg.sh``; yields its port; always stopped."""
    pgdir = Path(tempfile.mkdtemp(prefix="kefu-bench-pg-"))
    port = free_port()
    try:
        subprocess.run(["bash", str(ROOT / "scripts" / "pg.sh"), "start", str(pgdir), str(port)],
                       check=True, cwd=ROOT)
        log(f"postgresql: cluster on 127.0.0.1:{port} ({pgdir})")
        yield port
    finally:
        subprocess.run(["bash", str(ROOT / "scripts" / "pg.sh"), "stop", str(pgdir)], cwd=ROOT)
        log("postgresql: cluster stopped")


@contextmanager
def backend_urls(backend: str, workdir: Path, sizes: tuple[int, ...]):
    """Yield ``{"kefu_<size>": url, "floor_<size>": url}``: SQLite files, or databases
    in one PostgreSQL cluster (kefu's full-size one is ``kefu_test``, the rest are created)."""
    names = [f"{app}_{size}" for size in sizes for app in ("kefu", "floor")]
    if backend == "sqlite":
        yield {name: f"sqlite:///{workdir / name}.db" for name in names}
        return
    with postgresql_cluster() as port:
        base = f"postgresql+psycopg://postgres@127.0.0.1:{port}"
        databases = {name: ("kefu_test" if name == names[0] else name) for name in names}
        engine = sa.create_engine(f"{base}/kefu_test", isolation_level="AUTOCOMMIT")
        with engine.connect() as conn:
            for database in databases.values():
                if database != "kefu_test":
                    conn.execute(sa.text(f"CREATE DATABASE {database}"))
        engine.dispose()
        yield {name: f"{base}/{database}" for name, database in databases.items()}


# --------------------------------------------------------------------------- seeding

@dataclass
class Seed:
    """What the seeded rows refer to, and how many tickets each database holds."""

    staff_id: int
    department_ids: list[int]
    category_ids: list[int]
    customer_ids: tuple[int, int]  # first, last
    t0: datetime  # created_at of ticket id 0
    tickets: int = 0


def kefu_cli(env: dict, *args: str) -> str:
    """Run ``kefu ARGS`` with ``env``; return stdout (raise with stderr on failure)."""
    result = subprocess.run([str(BIN / "kefu"), *args], cwd=ROOT, env=env, capture_output=True, text=True)
    if result.returncode != 0:
        raise RuntimeError(f"kefu {' '.join(args)} failed:\n{result.stdout}\n{result.stderr}")
    return result.stdout


def seed_engine(url: str) -> sa.Engine:
    return floor_app.make_engine(url)  # kefu's options and SQLite pragmas


def seed_reference(url: str, staff_email: str, customers: int, final_tickets: int) -> Seed:
    """Departments and customers in kefu's database; return what tickets will point at."""
    from service.demo import DEPARTMENTS

    now = datetime.now(timezone.utc)
    t0 = now - timedelta(days=1) - SEED_SPACING * final_tickets
    engine = seed_engine(url)
    with engine.begin() as conn:
        conn.execute(Department.__table__.insert(), [
            {"code": code, "name": name, "name_zh": zh, "created_at": t0} for code, name, zh in DEPARTMENTS])
        conn.execute(Customer.__table__.insert(), [
            {"kind": "company" if n % 10 == 0 else "person", "name": f"Customer {n}",
             "email": f"customer{n}@example.test", "phone": f"+86 138 {n:08d}",
             "language": "zh_CN" if n % 3 else "en", "external_ref": f"C-{n:07d}", "created_at": t0}
            for n in range(1, customers + 1)])
        staff_id = conn.scalar(sa.select(Staff.id).where(Staff.email == staff_email))
        departments = list(conn.scalars(sa.select(Department.id).order_by(Department.id)))
        categories = list(conn.scalars(sa.select(Category.id).order_by(Category.id)))
        first, last = conn.execute(sa.select(sa.func.min(Customer.id), sa.func.max(Customer.id))).one()
    engine.dispose()
    return Seed(staff_id, departments, categories, (first, last), t0)


def copy_customers(kefu_url: str, floor_url: str) -> None:
    """The seeded customers, copied into the floor's customers table."""
    columns = [c.name for c in floor_app.floor_customers.c]
    kefu, floor = seed_engine(kefu_url), seed_engine(floor_url)
    with kefu.connect() as source, floor.begin() as target:
        rows = [dict(r._mapping) for r in source.execute(
            sa.select(*(Customer.__table__.c[c] for c in columns)))]
        for row in rows:
            row["created_at"] = row["created_at"].replace(tzinfo=None)
        for chunk in _chunks(rows):
            target.execute(floor_app.floor_customers.insert(), chunk)
    _analyze(floor)
    kefu.dispose()
    floor.dispose()


def _weighted(rng: random.Random, weights: dict) -> str:
    return rng.choices(list(weights), weights=list(weights.values()))[0]


def ticket_rows(seed: Seed, first_id: int, count: int):
    """Yield ``count`` valid kefu ticket rows with ids from ``first_id`` (deterministic)."""
    rng = random.Random(first_id)
    for tid in range(first_id, first_id + count):
        created = seed.t0 + SEED_SPACING * tid
        status = _weighted(rng, STATUS_WEIGHTS)
        priority = _weighted(rng, PRIORITY_WEIGHTS)
        sla = DEFAULT_SLA[priority]
        stamps = {}
        version = 1
        if status != "new" and status != "cancelled":
            stamps["confirmed_at"] = created + timedelta(hours=1)
            version += 1
        if status in ("in_progress", "waiting_on_customer", "resolved", "closed"):
            stamps["started_at"] = created + timedelta(hours=2)
            version += 1
        if status == "waiting_on_customer":
            stamps["waiting_since"] = created + timedelta(hours=3)
            version += 1
        if status in ("resolved", "closed"):
            stamps["resolved_at"] = created + timedelta(hours=20)
            version += 1
        if status == "closed":
            stamps["closed_at"] = created + timedelta(days=3)
            version += 1
        if status == "cancelled":
            stamps["cancelled_at"] = created + timedelta(minutes=30)
            version += 1
        remedy = rng.random() < 0.1
        yield {
            "id": tid, "kind": rng.choice(KINDS), "channel": rng.choice(CHANNELS),
            "category_id": rng.choice(seed.category_ids), "subject": f"Order {tid} arrived damaged",
            "description": f"Seeded ticket {tid}. The parcel arrived with a broken corner and the "
                           f"item inside does not switch on. Please advise.",
            "priority": priority, "status": status,
            "customer_id": rng.randint(*seed.customer_ids),
            "department_id": rng.choice(seed.department_ids) if "confirmed_at" in stamps else None,
            "assignee_id": seed.staff_id if "started_at" in stamps else None,
            "parent_id": None,
            "remedy_text": "Refund the item" if remedy else None,
            "remedy_amount_minor": rng.randint(1_000, 50_000) if remedy else None,
            "remedy_currency": "CNY" if remedy else None,
            "remedy_decision": "needs_approval" if remedy else None,
            "remedy_reason": "amount above the automatic limit (0): a supervisor decides" if remedy else None,
            "resolution": "Replaced the item" if "resolved_at" in stamps else None,
            "reason": "Duplicate" if status == "cancelled" else None,
            "reopen_count": 0, "customer_tier": None, "sla_policy": f"default:{priority}",
            "first_response_due": created + timedelta(minutes=sla["first_response"]),
            "resolution_due": created + timedelta(minutes=sla["resolution"]),
            "created_at": created, "confirmed_at": None, "started_at": None, "waiting_since": None,
            "resolved_at": None, "reopened_at": None, "closed_at": None, "cancelled_at": None,
            **stamps, "updated_at": max([created, *stamps.values()]),
            "tracking_hash": hashlib.sha256(f"bench-{tid}".encode()).hexdigest(), "version": version,
        }


def _chunks(rows, size=5_000):
    chunk = []
    for row in rows:
        chunk.append(row)
        if len(chunk) == size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def _reset_sequence(conn, table: str) -> None:
    if conn.dialect.name == "postgresql":
        conn.execute(sa.text(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                             f"(SELECT max(id) FROM {table}))"))


def _analyze(engine) -> None:
    # PostgreSQL's autovacuum would vacuum and analyze the bulk-loaded rows
    # within a minute or two (inserts alone trigger it since PostgreSQL 13);
    # do it now, so that plans and index-only scans do not change
    # mid-measurement and both apps are measured as a running database is.
    # SQLite has no such daemon and kefu does not run ANALYZE, so SQLite is
    # left as deployed.
    if engine.dialect.name == "postgresql":
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(sa.text("VACUUM ANALYZE"))


def seed_tickets(kefu_url: str, floor_url: str, seed: Seed, upto: int) -> None:
    """Bulk-insert tickets ``seed.tickets + 1 .. upto`` into kefu and the floor."""
    first, count = seed.tickets + 1, upto - seed.tickets
    if count <= 0:
        return
    started = time.monotonic()
    kefu = seed_engine(kefu_url)
    with kefu.begin() as conn:
        for chunk in _chunks(ticket_rows(seed, first, count)):
            conn.execute(Ticket.__table__.insert(), chunk)
            conn.execute(TicketEvent.__table__.insert(), [
                {"ticket_id": r["id"], "at": r["created_at"], "actor_type": "staff", "actor_id": seed.staff_id,
                 "actor_name": "Bench Agent", "action": "created", "from_status": None, "to_status": "new",
                 "details": {"channel": r["channel"], "kind": r["kind"], "seeded": True}} for r in chunk])
        _reset_sequence(conn, "tickets")
    _analyze(kefu)
    kefu.dispose()
    floor = seed_engine(floor_url)
    columns = [c.name for c in floor_app.floor_tickets.c]
    with floor.begin() as conn:
        for chunk in _chunks(ticket_rows(seed, first, count)):
            conn.execute(floor_app.floor_tickets.insert(), [
                {c: (r[c].replace(tzinfo=None) if c.endswith("_at") else r[c])
                 for c in columns if c != "number"} | {"number": f"KF-{r['id']:06d}"}
                for r in chunk])
        _reset_sequence(conn, "floor_tickets")
    _analyze(floor)
    floor.dispose()
    seed.tickets = upto
    log(f"seeded tickets {first:,}..{upto:,} into kefu and floor in {time.monotonic() - started:.1f} s")


# --------------------------------------------------------------------------- load

@dataclass
class Stats:
    """One app at one size on one endpoint: requests, time, latency percentiles, failures."""

    requests: int
    seconds: float
    p50_ms: float
    p99_ms: float
    errors: Counter = field(default_factory=Counter)
    sample_error: str = ""
    truncated: bool = False

    @property
    def rate(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0


@dataclass
class Sample:
    """Raw results gathered over the rounds of one measurement."""

    latencies: list = field(default_factory=list)
    errors: Counter = field(default_factory=Counter)
    seconds: float = 0.0
    sample_error: str = ""
    truncated: bool = False

    def stats(self) -> Stats:
        ordered = sorted(self.latencies)
        return Stats(len(ordered) - sum(self.errors.values()), self.seconds,
                     _percentile(ordered, 0.50) * 1000, _percentile(ordered, 0.99) * 1000,
                     self.errors, self.sample_error, self.truncated)


def _percentile(sorted_values: list[float], q: float) -> float:
    """Nearest-rank percentile of an ascending list."""
    if not sorted_values:
        return float("nan")
    rank = max(1, min(len(sorted_values), math.ceil(q * len(sorted_values))))
    return sorted_values[rank - 1]


def _send(conn: http.client.HTTPConnection, spec) -> tuple[int, bytes]:
    method, path, body, headers = spec
    try:
        conn.request(method, path, body=body, headers=headers)
        response = conn.getresponse()
        return response.status, response.read()
    except (OSError, http.client.HTTPException) as exc:
        conn.close()  # the next request reconnects
        return 0, repr(exc).encode()


def _client(port: int, warmup: list, specs: list, max_seconds: float, barrier, results) -> None:
    """One load-generating process: warm up, wait for the others, then time ``specs`` in order.

    Gunicorn's sync workers close the connection after each response, so
    ``http.client`` opens a new one per request (the connect is in the latency).
    """
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    for spec in warmup:
        _send(conn, spec)
    barrier.wait()
    latencies, errors, sample = [], Counter(), ""
    start = time.perf_counter()
    for spec in specs:
        t = time.perf_counter()
        status, body = _send(conn, spec)
        latencies.append(time.perf_counter() - t)
        if not 200 <= status < 300:
            errors[status] += 1
            sample = sample or f"{spec[0]} {spec[1]} -> {status}: {body[:300]!r}"
        if time.perf_counter() - start > max_seconds:
            break
    end = time.perf_counter()
    conn.close()
    results.put((start, end, latencies, errors, sample))


def run_chunk(sample: Sample, port: int, make_spec, requests: int, clients: int, warmup: int,
              max_seconds: float, rng_seed: int) -> None:
    """Send ``requests`` requests made by ``make_spec(rng)`` from ``clients`` processes; add to ``sample``.

    The clients start together (a barrier, after their warm-up); the time
    added is the last client's end minus the first one's start, on
    CLOCK_MONOTONIC (``perf_counter`` on Linux), which the processes share.
    """
    ctx = mp.get_context("fork")
    barrier, results = ctx.Barrier(clients), ctx.Queue()
    procs = []
    for i in range(clients):
        rng = random.Random(rng_seed * 1000 + i)
        share = requests // clients + (1 if i < requests % clients else 0)
        procs.append(ctx.Process(target=_client, daemon=True, args=(
            port, [make_spec(rng) for _ in range(warmup)], [make_spec(rng) for _ in range(share)],
            max_seconds, barrier, results)))
    for p in procs:
        p.start()
    try:
        outs = [results.get(timeout=max_seconds + 120) for _ in procs]
    finally:
        for p in procs:
            p.join(timeout=10)
            if p.is_alive():
                p.terminate()
                p.join()
    done = sum(len(o[2]) for o in outs)
    sample.latencies += [x for o in outs for x in o[2]]
    sample.errors += sum((o[3] for o in outs), Counter())
    sample.seconds += max(o[1] for o in outs) - min(o[0] for o in outs)
    sample.sample_error = sample.sample_error or next((o[4] for o in outs if o[4]), "")
    sample.truncated = sample.truncated or done < requests


# --------------------------------------------------------------------------- endpoints

@dataclass(eq=False)
class Target:
    """One running app holding ``seed.tickets`` tickets."""

    app: str  # "kefu" or "floor"
    server: Server
    seed: Seed
    token: str


def endpoint_spec(endpoint: str, target: Target):
    """``make_spec(rng) -> (method, path, body, headers)`` for ``endpoint`` on ``target``.

    kefu and the floor get the same headers (the floor ignores the token),
    the same tickets and the same bodies.
    """
    kefu = target.app == "kefu"
    prefix = "/api/v1/tickets" if kefu else "/tickets"
    headers = {"Authorization": f"Bearer {target.token}", "Accept": "application/json"}
    n, customers = target.seed.tickets, target.seed.customer_ids
    if endpoint == "get":
        return lambda rng: ("GET", f"{prefix}/KF-{rng.randint(1, n):06d}", None, headers)
    if endpoint == "list_first":
        return lambda rng: ("GET", f"{prefix}?limit={PAGE}", None, headers)
    if endpoint == "customers":
        path = "/api/v1/customers" if kefu else "/customers"
        return lambda rng: ("GET", f"{path}?limit={PAGE}", None, headers)
    if endpoint == "list_deep":
        # A page 99 % of the way down: after a ticket among the oldest 1-2 %.
        low, high = max(PAGE + 1, n // 100), max(PAGE + 2, n // 50)

        def deep(rng):
            after = rng.randint(low, high)
            return "GET", f"{prefix}?limit={PAGE}&cursor={kefu_cursor(after) if kefu else after}", None, headers
        return deep
    if endpoint == "create":
        json_headers = {**headers, "Content-Type": "application/json"}

        def create(rng):
            body = json.dumps({
                "customer_id": rng.randint(*customers), "kind": rng.choice(KINDS),
                "priority": _weighted(rng, PRIORITY_WEIGHTS), "subject": "Bench: parcel arrived damaged",
                "description": "The parcel arrived with a broken corner and the item inside does not "
                               "switch on. Please advise how to return it.",
            }).encode()
            return "POST", prefix, body, json_headers
        return create
    raise ValueError(endpoint)


def measure_endpoint(endpoint: str, targets: list[Target], opts: "Options") -> dict[Target, Stats]:
    """Measure ``endpoint`` on every target, interleaved: ``opts.rounds`` rounds, each
    sending a share of ``opts.requests`` to each target in turn (order reversed every
    other round). Load from other processes on the machine then hits every target
    alike, so ratios between them stay fair even when absolute numbers drift."""
    samples = {t: Sample() for t in targets}
    for r in range(opts.rounds):
        share = opts.requests // opts.rounds + (1 if r < opts.requests % opts.rounds else 0)
        for t in (targets if r % 2 == 0 else targets[::-1]):
            run_chunk(samples[t], t.server.port, endpoint_spec(endpoint, t), share, opts.clients,
                      opts.warmup if r == 0 else 1, opts.max_seconds / opts.rounds, rng_seed=r)
    return {t: s.stats() for t, s in samples.items()}


# --------------------------------------------------------------------------- run

@dataclass
class Options:
    backends: list[str]
    small: int
    tickets: int
    requests: int
    rounds: int
    clients: int
    warmup: int
    max_seconds: float
    keep: bool
    command: str


def prepare(size: int, kefu_url: str, floor_url: str, opts: Options, workdir: Path) -> tuple[Target, Target]:
    """Migrate and seed one kefu and one floor database with ``size`` tickets; start both apps."""
    env = clean_env(KEFU_DATABASE_URL=kefu_url, KEFU_INSTANCE_PATH=str(workdir / "instance"))
    kefu_cli(env, "db", "upgrade")
    email = "bench-agent@example.test"
    token = kefu_cli(env, "staff", "create", "--email", email, "--name", "Bench Agent",
                     "--role", "agent").strip().splitlines()[-1]
    floor_app.init_db(floor_url)
    seed = seed_reference(kefu_url, email, customers=max(200, opts.tickets // 5), final_tickets=opts.tickets)
    copy_customers(kefu_url, floor_url)
    seed_tickets(kefu_url, floor_url, seed, size)
    # Background jobs run in `kefu worker` processes in a served deployment;
    # the embedded in-process runner (the default without REDIS_URL) would
    # run the SLA sweep, tier recompute and relay inside the measured web
    # workers. Jobs the requests ask for wait in the outbox, as with a worker
    # that is busy elsewhere.
    server_env = {**env, "KEFU_JOBS_IN_PROCESS": "false"}
    kefu = Server(f"kefu-{size}", "service.app:create_app()", server_env, workdir, "/api/v1/openapi.json")
    floor = Server(f"floor-{size}", "floor_app:create_app()", clean_env(FLOOR_DATABASE_URL=floor_url),
                   workdir, "/tickets?limit=1", pythonpath=BENCH)
    return Target("kefu", kefu, seed, token), Target("floor", floor, seed, token)


def run_backend(backend: str, opts: Options, results: dict) -> None:
    """Set up, seed, serve and measure one backend; fill ``results[(backend, size, endpoint)]``."""
    workdir = Path(tempfile.mkdtemp(prefix=f"kefu-bench-{backend}-"))
    try:
        with backend_urls(backend, workdir, (opts.tickets, opts.small)) as urls:
            targets: list[Target] = []
            try:  # servers stop before the database does
                for size in (opts.tickets, opts.small):
                    targets += prepare(size, urls[f"kefu_{size}"], urls[f"floor_{size}"], opts, workdir)
                    for t in targets[-2:]:
                        t.server.start()
                for endpoint in ("get", "list_first", "list_deep", "customers", "create"):
                    # Create only on the full databases, and last, so that the others
                    # see exactly the seeded number of tickets; customers (as many
                    # at both sizes) only there too.
                    chosen = [t for t in targets
                              if endpoint not in ("create", "customers") or t.seed.tickets == opts.tickets]
                    for t, stats in measure_endpoint(endpoint, chosen, opts).items():
                        results.setdefault((backend, t.seed.tickets, endpoint), {})[t.app] = stats
                        log(f"{backend} {t.seed.tickets:>7,} {endpoint:<10} {t.app:<5} {stats.rate:8.1f} req/s "
                            f"p50 {stats.p50_ms:6.1f} ms p99 {stats.p99_ms:6.1f} ms"
                            + (f"  ERRORS {dict(stats.errors)}: {stats.sample_error}" if stats.errors else ""))
            finally:
                for t in targets:
                    t.server.stop()
                if targets:
                    log(f"{backend}: servers stopped")
    finally:
        if opts.keep:
            log(f"{backend}: kept {workdir}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)


# --------------------------------------------------------------------------- report

def _mark(ok: bool) -> str:
    return "PASS" if ok else "MISS"


ENDPOINTS = ("create", "get", "list_first", "list_deep", "customers")


def build_report(results: dict, opts: Options, elapsed: float, plugins: str, load: tuple) -> tuple[str, str]:
    """The result as ``(plain-text table, Markdown document)``."""
    header = ["backend", "tickets", "endpoint", "kefu req/s", "kefu p50 ms", "kefu p99 ms",
              "floor req/s", "floor p50 ms", "floor p99 ms", "kefu/floor req/s", "target"]
    rows, checks = [], []
    order = sorted(results, key=lambda k: (opts.backends.index(k[0]), -k[1], ENDPOINTS.index(k[2])))
    for backend, size, endpoint in order:
        k, f = results[(backend, size, endpoint)]["kefu"], results[(backend, size, endpoint)]["floor"]
        ratio = k.rate / f.rate if f.rate else 0.0
        target = ""
        if endpoint in RATE_TARGETS and size == opts.tickets:
            goal = RATE_TARGETS[endpoint]
            target = f"{_mark(ratio >= goal)} (>= {goal})"
            checks.append(f"{backend}: {endpoint} at {size:,} tickets runs at {ratio:.2f} of the floor's req/s "
                          f"(target >= {goal}): {_mark(ratio >= goal)}")
        flag = " !" if k.errors or f.errors or k.truncated or f.truncated else ""
        rows.append([backend, f"{size:,}", endpoint + flag, f"{k.rate:.1f}", f"{k.p50_ms:.1f}", f"{k.p99_ms:.1f}",
                     f"{f.rate:.1f}", f"{f.p50_ms:.1f}", f"{f.p99_ms:.1f}", f"{ratio:.2f}", target])
    for backend in opts.backends:
        for endpoint in ("list_first", "list_deep"):
            big, small = results.get((backend, opts.tickets, endpoint)), results.get((backend, opts.small, endpoint))
            if not big or not small:
                continue
            growth = big["kefu"].p99_ms / small["kefu"].p99_ms
            floor_growth = big["floor"].p99_ms / small["floor"].p99_ms
            checks.append(f"{backend}: {endpoint} p99 at {opts.tickets:,} / at {opts.small:,} tickets = "
                          f"{big['kefu'].p99_ms:.1f} / {small['kefu'].p99_ms:.1f} ms = {growth:.2f} "
                          f"(target <= {LIST_P99_GROWTH}; floor {floor_growth:.2f}): "
                          f"{_mark(growth <= LIST_P99_GROWTH)}")
    problems = [f"{b} {s:,} {e} {name}: {dict(st.errors)} {'(stopped at --max-seconds) ' if st.truncated else ''}"
                f"{st.sample_error}"
                for (b, s, e), row in results.items() for name, st in row.items() if st.errors or st.truncated]

    setup = (f"Each app under gunicorn ({WORKERS} sync workers) on 127.0.0.1; {opts.clients} client processes; "
             f"{opts.requests} requests per app, size and endpoint, in {opts.rounds} interleaved rounds, "
             f"after {opts.warmup} warm-up requests per client; page size {PAGE}; create only at "
             f"{opts.tickets:,} tickets. kefu runs its default configuration with auth (jobs left to workers: JOBS_IN_PROCESS=false); plugins enabled: "
             f"{plugins}. Load average at start {load[0]:.2f}, at end {load[1]:.2f} "
             f"(other processes on the machine make every number noisier).")
    widths = [max(len(h), *(len(r[i]) for r in rows)) if rows else len(h) for i, h in enumerate(header)]

    def line(cells):
        return "  ".join(c.rjust(w) if 3 <= i < 10 else c.ljust(w)
                         for i, (c, w) in enumerate(zip(cells, widths))).rstrip()

    text = "\n".join([line(header), line(["-" * w for w in widths]), *map(line, rows), "", *checks,
                      *(["", "Errors or truncated measurements (marked !):", *problems] if problems else []),
                      "", setup, f"Total time {elapsed:.0f} s."])

    md_rows = ["| " + " | ".join(header) + " |",
               "|" + "|".join("---:" if 3 <= i < 10 else "---" for i in range(len(header))) + "|"]
    md_rows += ["| " + " | ".join(r) + " |" for r in rows]
    machine = (f"{platform.system()} {platform.release()}, {os.cpu_count()} CPUs, Python {platform.python_version()}, "
               f"{_versions()}")
    md = "\n".join([
        f"Run {datetime.now().strftime('%Y-%m-%d %H:%M')}, {elapsed:.0f} s, on {machine}:", "",
        "```", opts.command, "```", "",
        *md_rows, "",
        *[f"- {c}" for c in checks], "",
        *(["Errors or truncated measurements (marked !):", "", *[f"- {p}" for p in problems], ""] if problems else []),
        setup, "",
    ])
    return text, md


def _versions() -> str:
    from importlib.metadata import version

    git = subprocess.run(["git", "describe", "--always", "--dirty"], cwd=ROOT, capture_output=True, text=True)
    out = [f"kefu {git.stdout.strip() or 'unknown revision'}"]
    out += [f"{name} {version(name)}" for name in ("gunicorn", "flask", "sqlalchemy", "psycopg")]
    pg = sorted(Path("/usr/lib/postgresql").glob("*/bin/postgres"))
    if pg:
        out.append(subprocess.run([str(pg[-1]), "--version"], capture_output=True, text=True).stdout.strip())
    return ", ".join(out)


def plugin_names() -> str:
    """The plugins kefu's default configuration enables (``core`` is kefu's own defaults)."""
    from service.hooks.manager import make_plugin_manager

    _pm, infos, _failed = make_plugin_manager([])
    names = [i.name for i in infos if i.enabled]
    builtin = [i.name for i in infos if i.source.startswith("builtin")]
    return ", ".join(names) + ("" if builtin else " (no builtin plugins ship yet)")


def parse_args(argv=None) -> Options:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--backends", default="sqlite,postgresql",
                        help="comma-separated: sqlite, postgresql (default: both, in that order)")
    parser.add_argument("--requests", type=int,
                        help="measured requests per app, size and endpoint (default 1000; quick 200)")
    parser.add_argument("--tickets", type=int, help="full size (default 100000; quick 10000)")
    parser.add_argument("--small", type=int, default=1_000, help="small size for the list comparison (default 1000)")
    parser.add_argument("--rounds", type=int, help="interleaved rounds per endpoint (default 5; quick 2)")
    parser.add_argument("--clients", type=int, default=4, help="load-generating processes (default 4)")
    parser.add_argument("--warmup", type=int, help="warm-up requests per client (default 25; quick 5)")
    parser.add_argument("--max-seconds", type=float, default=60,
                        help="time bound per app, size and endpoint (default 60)")
    parser.add_argument("--quick", action="store_true", help="smoke run: 10,000 tickets, 200 requests, 2 rounds")
    parser.add_argument("--keep", action="store_true", help="keep the temporary directory (logs, SQLite files)")
    args = parser.parse_args(argv)
    backends = [b.strip() for b in args.backends.split(",") if b.strip()]
    for b in backends:
        if b not in ("sqlite", "postgresql"):
            parser.error(f"unknown backend {b!r}")
    opts = Options(
        backends=backends, small=args.small,
        tickets=args.tickets or (10_000 if args.quick else 100_000),
        requests=args.requests or (200 if args.quick else 1_000),
        rounds=args.rounds or (2 if args.quick else 5), clients=args.clients,
        warmup=args.warmup if args.warmup is not None else (5 if args.quick else 25),
        max_seconds=args.max_seconds, keep=args.keep,
        command=" ".join([".venv/bin/python", "bench/api_bench.py", *(sys.argv[1:] if argv is None else argv)]),
    )
    if opts.tickets <= opts.small:
        parser.error("--tickets must be larger than --small")
    if opts.requests < opts.rounds * opts.clients:
        parser.error("--requests must be at least --rounds x --clients")
    return opts


def main(argv=None) -> int:
    opts = parse_args(argv)
    started, load_start = time.monotonic(), os.getloadavg()[0]
    plugins = plugin_names()
    log(f"kefu plugins enabled: {plugins}; load average {load_start:.2f}")
    results: dict = {}
    for backend in opts.backends:
        log(f"== {backend} ==")
        run_backend(backend, opts, results)
    text, md = build_report(results, opts, time.monotonic() - started, plugins, (load_start, os.getloadavg()[0]))
    print(text)
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "latest.md").write_text(md)
    log(f"wrote {RESULTS / 'latest.md'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
