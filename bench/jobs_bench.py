"""Jobs benchmark: the ``mail.notice`` job through kefu workers on a real Redis, against a bare RQ floor.

What it measures
----------------
For each database backend (an SQLite file, then optionally a throwaway
PostgreSQL cluster from ``scripts/pg.sh``) it

1. starts a throwaway ``redis-server`` (free 127.0.0.1 port, no persistence,
   temp dir) and an SMTP sink in this process (aiosmtpd on 127.0.0.1, a
   handler that only counts messages and their Message-IDs);
2. migrates a kefu database (``kefu db upgrade``) and seeds ``--jobs``
   tickets in bulk (SQL executemany, the rows of ``bench/api_bench.py``),
   each for a customer with an e-mail address;
3. measures, for 1 and 2 workers (``--workers``), ``--jobs`` jobs of each
   variant, split into ``--rounds`` rounds; each round runs every variant and
   worker count once, in an order reversed every other round, so load from
   other processes falls on all of them alike:

   * **kefu notice**: ``mail.notice`` jobs (``notice="confirmed"``, one per
     ticket) written with ``service.jobs.registry.enqueue`` in one
     transaction and relayed to Redis with ``service.jobs.outbox.relay_job``
     *before* any worker starts; then 1 (or 2) ``kefu worker --no-periodic``
     processes are started, and the time runs from their start until the
     SMTP sink has received every mail. Afterwards the workers are stopped
     (SIGTERM, warm shutdown) and every outbox row must be done, once;
   * **rq no-op floor**: as many jobs whose function is ``os.getpid``,
     enqueued up front, worked by 1 (or 2) plain ``rq worker --with-scheduler``
     processes (RQ's own ``Worker``: one forked work horse
     per job); the time runs from their start until RQ's finished-job
     registry holds every job.

Before each measurement Redis is emptied (FLUSHDB) and kefu's outbox and
effect tables are cleared, so every round starts from the same state.
jobs/s is jobs over the measured wall time, which includes the workers'
start-up (``first s`` shows when the first job was done). The floor is what
RQ's own fork-per-job costs on this machine with nothing in the job: read
kefu's number as a ratio to it (same worker count), and the 2-worker /
1-worker scaling next to the floor's.

The table goes to stdout and, as Markdown, to ``bench/results/jobs-latest.md``
(git-ignored); progress goes to stderr.

Running it
----------
From the repository root, with the test extras installed (``make test-deps``;
redis-server, and PostgreSQL for the second backend)::

    .venv/bin/python bench/jobs_bench.py                    # 2,000 jobs, 3 rounds, SQLite and PostgreSQL
    .venv/bin/python bench/jobs_bench.py --quick            # smoke run: 200 jobs, 1 round, SQLite, ~1 minute
    .venv/bin/python bench/jobs_bench.py --backends sqlite --jobs 5000

Everything it starts (redis-server, the workers, the PostgreSQL cluster, the
SMTP sink thread) is stopped by its pid when the run ends, also on errors and
Ctrl-C; the temporary directory is removed unless ``--keep`` is given.
"""
from __future__ import annotations

import argparse
import os
import platform
import re
import secrets
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
BIN = Path(sys.executable).parent
RESULTS = BENCH / "results"
sys.path.insert(0, str(BENCH))
sys.path.insert(0, str(ROOT))

import api_bench as ab  # bench/api_bench.py: its helpers (no side effects on import)
import sqlalchemy as sa
from redis import Redis
from rq import Queue
from rq.registry import FailedJobRegistry

from service.models import Ticket

log = ab.log
free_port = ab.free_port

NOTICE = "confirmed"
FLOOR_FUNC = "os.getpid"  # importable anywhere, does nothing worth measuring
KEFU_QUEUE = "mail"  # the queue of mail.notice (service.jobs.registry.CORE_JOBS)
VARIANTS = ("kefu notice", "rq no-op floor")
POLL = 0.01  # seconds between completion checks


# --------------------------------------------------------------------------- parts

class RedisServer:
    """``redis-server`` on a free loopback port, in ``workdir``, without persistence."""

    def __init__(self, workdir: Path):
        self.workdir, self.port, self.proc = workdir, free_port(), None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self, timeout: float = 20) -> RedisServer:
        binary = shutil.which("redis-server") or "/usr/sbin/redis-server"
        self.proc = subprocess.Popen(
            [binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
             "--dir", str(self.workdir), "--logfile", str(self.workdir / "redis.log")],
            stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT, start_new_session=True)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"redis-server exited ({self.proc.returncode})")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.2) as s:
                    s.sendall(b"PING\r\n")
                    if s.recv(16).startswith(b"+PONG"):
                        log(f"redis-server pid {self.proc.pid} on 127.0.0.1:{self.port}")
                        return self
            except OSError:
                pass
            time.sleep(0.05)
        raise RuntimeError(f"redis-server did not answer within {timeout} s")

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None


_MESSAGE_ID = re.compile(rb"^Message-ID:[ \t]*(\S+)", re.IGNORECASE | re.MULTILINE)


class CountingHandler:
    """An aiosmtpd handler that accepts everything and counts messages, distinct
    Message-IDs (a duplicate mail has the same one) and when the first and last came."""

    def __init__(self):
        self.lock = threading.Lock()
        self.reset()

    def reset(self) -> None:
        with self.lock:
            self.count, self.ids, self.first, self.last = 0, set(), None, None

    async def handle_DATA(self, server, session, envelope):
        now = time.monotonic()
        head = envelope.content.split(b"\r\n\r\n", 1)[0]
        match = _MESSAGE_ID.search(head)
        with self.lock:
            self.count += 1
            self.ids.add(match.group(1) if match else b"<none-%d>" % self.count)
            self.first = self.first or now
            self.last = now
        return "250 OK"


@contextmanager
def smtp_sink(handler=None):
    """An SMTP server on a free 127.0.0.1 port in a thread of this process, with
    ``handler`` (default a ``CountingHandler``); yields ``(port, handler)``."""
    from aiosmtpd.controller import Controller

    handler = handler if handler is not None else CountingHandler()
    controller = Controller(handler, hostname="127.0.0.1", port=free_port(), ready_timeout=10)
    controller.start()
    log(f"SMTP sink on 127.0.0.1:{controller.port}")
    try:
        yield controller.port, handler
    finally:
        controller.stop()


class Workers:
    """Worker processes (each in a session of its own, so Ctrl-C reaches only this
    script), stopped by pid: SIGTERM (RQ's warm shutdown), then SIGKILL to the
    process group each one leads (its scheduler and work horse) if needed."""

    def __init__(self, logdir: Path, label: str):
        self.logdir, self.label, self.procs = logdir, label, []

    def start(self, cmd: list[str], env: dict) -> None:
        with open(self.logdir / f"{self.label}-{len(self.procs)}.log", "wb") as logfile:
            self.procs.append(subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=logfile,
                                               stderr=subprocess.STDOUT, start_new_session=True))

    def dead(self) -> list[subprocess.Popen]:
        return [p for p in self.procs if p.poll() is not None]

    def log_tail(self, chars: int = 3000) -> str:
        return "\n".join(f"--- {path.name}:\n{path.read_text(errors='replace')[-chars:]}"
                         for path in sorted(self.logdir.glob(f"{self.label}-*.log")))

    def stop(self, timeout: float = 30) -> None:
        for proc in self.procs:
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + timeout
        for proc in self.procs:
            try:
                proc.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                log(f"{self.label}: worker pid {proc.pid} ignored SIGTERM for {timeout} s; killing its group")
                _killpg(proc.pid)
                proc.wait()
        for proc in self.procs:  # leftovers of a worker that went first (a scheduler, a horse)
            for _ in range(50):
                if not _group_alive(proc.pid):
                    break
                time.sleep(0.1)
            else:
                _killpg(proc.pid)
        self.procs = []


def _group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
        return True
    except (ProcessLookupError, PermissionError):
        return False


def _killpg(pgid: int) -> None:
    try:
        os.killpg(pgid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


# --------------------------------------------------------------------------- database

@contextmanager
def database_url(backend: str, workdir: Path):
    """An empty database for kefu: an SQLite file, or ``kefu_test`` in a throwaway cluster."""
    if backend == "sqlite":
        yield f"sqlite:///{workdir / 'kefu.db'}"
        return
    with ab.postgresql_cluster() as port:
        yield f"postgresql+psycopg://postgres@127.0.0.1:{port}/kefu_test"


def seed(url: str, tickets: int) -> None:
    """Departments, customers (all with an e-mail address) and ``tickets`` tickets, in bulk."""
    started = time.monotonic()
    reference = ab.seed_reference(url, "nobody@example.test", customers=max(200, tickets // 5),
                                  final_tickets=tickets)
    engine = ab.seed_engine(url)
    with engine.begin() as conn:
        for chunk in ab._chunks(ab.ticket_rows(reference, 1, tickets)):
            conn.execute(Ticket.__table__.insert(), chunk)
        ab._reset_sequence(conn, "tickets")
    ab._analyze(engine)
    engine.dispose()
    log(f"seeded {tickets:,} tickets in {time.monotonic() - started:.1f} s")


# --------------------------------------------------------------------------- measuring

@dataclass
class Measurement:
    variant: str
    workers: int
    jobs: int
    seconds: float  # worker start -> last job done
    first: float  # worker start -> first job done
    done: int  # jobs seen done
    problems: list[str] = field(default_factory=list)

    @property
    def rate(self) -> float:
        return self.done / self.seconds if self.seconds else 0.0


@dataclass
class Bench:
    backend: str
    opts: Options
    workdir: Path
    redis: RedisServer
    conn: Redis
    smtp_port: int
    sink: CountingHandler
    app: object
    env: dict
    index: int = 0

    # ---------------------------------------------------------------- kefu

    def prepare_kefu(self, n: int) -> None:
        """Clear the outbox, write ``n`` mail.notice rows (tickets 1..n) in one transaction, relay them to Redis."""
        from service.jobs import registry as jobs
        from service.jobs import outbox
        from service.extensions import db
        from service.models import JobEffect, OutboxJob

        started = time.monotonic()
        with self.app.app_context():
            db.session.execute(sa.delete(JobEffect))
            db.session.execute(sa.delete(OutboxJob))
            db.session.commit()
            # A new version per measurement: new effect keys and Message-IDs.
            for ticket_id in range(1, n + 1):
                jobs.enqueue("mail.notice", ticket_id=ticket_id, notice=NOTICE, version=1000 + self.index,
                             message_id=None)
            db.session.commit()
            jobs.take_enqueued(db.session)
            relayed = outbox.relay_job()
            db.session.remove()
        queued = Queue(KEFU_QUEUE, connection=self.conn).count
        if relayed != n or queued != n:
            raise RuntimeError(f"relayed {relayed} and {queued} queued, expected {n}")
        log(f"  {n:,} outbox rows written and relayed in {time.monotonic() - started:.1f} s")

    def check_kefu(self, m: Measurement) -> None:
        """After the workers stopped: every row done once, one distinct mail each, no failed job."""
        from service.extensions import db
        from service.models import JobEffect, OutboxJob

        with self.app.app_context():
            rows = db.session.execute(sa.select(
                sa.func.count(), sa.func.count(OutboxJob.done_at),
                sa.func.sum(sa.case((OutboxJob.attempts > 1, 1), else_=0)),
                sa.func.count(OutboxJob.last_error))).one()
            effects = db.session.scalar(sa.select(sa.func.count(JobEffect.done_at)))
            sample_error = db.session.scalar(sa.select(OutboxJob.last_error)
                                             .where(OutboxJob.last_error.is_not(None)).limit(1))
            db.session.remove()
        total, done, retried, errors = rows[0], rows[1], rows[2] or 0, rows[3]
        n = m.jobs
        if total != n or done != n:
            m.problems.append(f"{done} of {total} outbox rows done (expected {n})")
        if retried or errors:
            m.problems.append(f"{retried} rows ran more than once, {errors} with an error: {sample_error}")
        if effects != n:
            m.problems.append(f"{effects} effects done (expected {n})")
        with self.sink.lock:
            count, distinct = self.sink.count, len(self.sink.ids)
        if count != n or distinct != n:
            m.problems.append(f"SMTP sink got {count} messages, {distinct} distinct (expected {n})")
        failed = FailedJobRegistry(KEFU_QUEUE, connection=self.conn).get_job_count(cleanup=False)
        if failed:
            m.problems.append(f"{failed} jobs in RQ's failed registry")

    # ---------------------------------------------------------------- floor

    def prepare_floor(self, n: int) -> Queue:
        """``n`` no-op jobs on a queue of their own, enqueued in pipelines."""
        queue = Queue(f"floor{self.index}", connection=self.conn)
        data = [Queue.prepare_data(FLOOR_FUNC, timeout=300, result_ttl=3600, job_id=f"floor-{self.index}-{i}")
                for i in range(n)]
        for start in range(0, len(data), 500):
            with self.conn.pipeline() as pipe:
                queue.enqueue_many(data[start:start + 500], pipeline=pipe)
                pipe.execute()
        if queue.count != n:
            raise RuntimeError(f"{queue.count} floor jobs queued, expected {n}")
        return queue

    # ---------------------------------------------------------------- both

    def measure(self, variant: str, workers: int, n: int) -> Measurement:
        """Run ``n`` jobs of ``variant`` through ``workers`` fresh worker processes."""
        self.index += 1
        self.conn.flushdb()
        self.sink.reset()
        if variant == "kefu notice":
            self.prepare_kefu(n)
            cmd, env = [str(BIN / "kefu"), "worker", "--no-periodic"], self.env
            finished = lambda: self.sink.count
        else:
            queue = self.prepare_floor(n)
            registry = queue.finished_job_registry
            cmd = [str(BIN / "rq"), "worker", "--url", self.redis.url, "--with-scheduler", queue.name]
            env = ab.clean_env()
            finished = lambda: registry.get_job_count(cleanup=False)
        pool = Workers(self.workdir, f"{self.backend}-{self.index:02d}-{'kefu' if variant.startswith('kefu') else 'rq'}"
                                     f"-{workers}w")
        problems, first, last, done = [], None, None, 0
        try:
            started = time.monotonic()
            for _ in range(workers):
                pool.start(cmd, env)
            deadline = started + self.opts.max_seconds
            while True:
                now = time.monotonic()
                done = finished()
                if done and first is None:
                    first = now
                if done >= n:
                    last = now
                    break
                if now > deadline:
                    problems.append(f"stopped after --max-seconds {self.opts.max_seconds:g} with {done} of {n} done")
                    last = now
                    break
                if pool.dead():
                    problems.append(f"a worker exited ({[p.returncode for p in pool.dead()]}) with {done} of {n} "
                                    f"done:\n{pool.log_tail()}")
                    last = now
                    break
                time.sleep(POLL)
        finally:
            pool.stop()
        if variant == "kefu notice" and self.sink.first is not None:
            # The sink stamps each message as it arrives: exact, no polling delay.
            first, last = self.sink.first, self.sink.last if done >= n else last
        m = Measurement(variant, workers, n, last - started, (first or last) - started, min(done, n), problems)
        if variant == "kefu notice":
            self.check_kefu(m)
        log(f"  {self.backend} {variant:<14} {workers} worker(s): {m.done:,} jobs in {m.seconds:6.2f} s = "
            f"{m.rate:7.1f} jobs/s (first after {m.first:.2f} s)" + (f"  PROBLEMS: {m.problems}" if m.problems else ""))
        return m


def run_backend(backend: str, opts: Options, results: dict) -> None:
    """Set up one backend and run every round; fill ``results[(backend, variant, workers)]``."""
    workdir = Path(tempfile.mkdtemp(prefix=f"kefu-jobs-bench-{backend}-"))
    redis = conn = None
    try:
        redis = RedisServer(workdir).start()
        conn = Redis.from_url(redis.url)
        with smtp_sink() as (smtp_port, sink), database_url(backend, workdir) as url:
            instance = workdir / "instance"
            settings = {"DATABASE_URL": url, "REDIS_URL": redis.url, "SMTP_HOST": "127.0.0.1",
                        "SMTP_PORT": smtp_port, "SECRET_KEY": f"bench-{secrets.token_hex(16)}",
                        "JOBS_IN_PROCESS": False}
            env = ab.clean_env(KEFU_INSTANCE_PATH=str(instance), KEFU_DATABASE_URL=url, KEFU_REDIS_URL=redis.url,
                               KEFU_SMTP_HOST="127.0.0.1", KEFU_SMTP_PORT=str(smtp_port),
                               KEFU_SECRET_KEY=settings["SECRET_KEY"], KEFU_JOBS_IN_PROCESS="false")
            ab.kefu_cli(env, "db", "upgrade")
            seed(url, opts.jobs)
            from service import create_app

            app = create_app({**settings, "INSTANCE_PATH": str(instance)})
            bench = Bench(backend, opts, workdir, redis, conn, smtp_port, sink, app, env)
            plan = [(v, w) for v in VARIANTS for w in opts.workers]
            try:
                for r in range(opts.rounds):
                    share = opts.jobs // opts.rounds + (1 if r < opts.jobs % opts.rounds else 0)
                    log(f"{backend}: round {r + 1} of {opts.rounds}, {share:,} jobs each")
                    for variant, workers in (plan if r % 2 == 0 else plan[::-1]):
                        m = bench.measure(variant, workers, share)
                        results.setdefault((backend, variant, workers), []).append(m)
            finally:
                with app.app_context():
                    from service.extensions import db

                    db.engine.dispose()
                if app.extensions.get("kefu_redis") is not None:
                    app.extensions["kefu_redis"].close()
    finally:
        if conn is not None:
            conn.close()
        if redis is not None:
            redis.stop()
            log(f"{backend}: redis-server stopped")
        if opts.keep:
            log(f"{backend}: kept {workdir}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)


# --------------------------------------------------------------------------- report

@dataclass
class Options:
    backends: list[str]
    jobs: int
    rounds: int
    workers: list[int]
    max_seconds: float
    keep: bool
    command: str


def _rate(ms: list[Measurement]) -> float:
    seconds = sum(m.seconds for m in ms)
    return sum(m.done for m in ms) / seconds if seconds else 0.0


RATIO_TARGET = 0.5  # mail.notice jobs/s / RQ no-op jobs/s, one worker each (issue 19)
SCALING_TARGET = 1.6  # two kefu workers' jobs/s / one worker's, on PostgreSQL (issue 19)


def _mark(ok: bool) -> str:
    return "PASS" if ok else "MISS"


def build_report(results: dict, opts: Options, elapsed: float, load: tuple) -> tuple[str, str]:
    header = ["backend", "variant", "workers", "jobs", "seconds", "jobs/s", "rounds jobs/s", "first s",
              "ratio to floor", f"{max(opts.workers)}w/{min(opts.workers)}w"]
    rows, notes, problems, checks = [], [], [], []
    lo, hi = min(opts.workers), max(opts.workers)
    for backend in opts.backends:
        for variant in VARIANTS:
            for workers in opts.workers:
                ms = results.get((backend, variant, workers))
                if not ms:
                    continue
                rate = _rate(ms)
                floor = _rate(results.get((backend, VARIANTS[1], workers), []))
                ratio = f"{rate / floor:.2f}" if variant == VARIANTS[0] and floor else ""
                scaling = ""
                if workers == hi and hi != lo and results.get((backend, variant, lo)):
                    scaling = f"{rate / _rate(results[(backend, variant, lo)]):.2f}"
                rates = [m.rate for m in ms]
                spread = f"{min(rates):.1f}-{max(rates):.1f}" if len(ms) > 1 else f"{rates[0]:.1f}"
                flag = " !" if any(m.problems for m in ms) else ""
                rows.append([backend, variant + flag, str(workers), f"{sum(m.done for m in ms):,}",
                             f"{sum(m.seconds for m in ms):.1f}", f"{rate:.1f}", spread,
                             f"{statistics.median(m.first for m in ms):.2f}", ratio, scaling])
                problems += [f"{backend} {variant} {workers}w round {i + 1}: {p}"
                             for i, m in enumerate(ms) for p in m.problems]
        one, floor_one = results.get((backend, VARIANTS[0], lo)), results.get((backend, VARIANTS[1], lo))
        if one and floor_one and lo == 1:
            ratio = _rate(one) / _rate(floor_one)
            checks.append(f"{backend}: mail.notice with one worker at {ratio:.2f} of the RQ no-op floor "
                          f"(target >= {RATIO_TARGET}): {_mark(ratio >= RATIO_TARGET)}")
        many, floor_many = results.get((backend, VARIANTS[0], hi)), results.get((backend, VARIANTS[1], hi))
        if one and many and floor_one and floor_many and hi == 2 and lo == 1:
            scaling, floor_scaling = _rate(many) / _rate(one), _rate(floor_many) / _rate(floor_one)
            judged = backend == "postgresql"  # the target is for PostgreSQL
            checks.append(f"{backend}: two workers at {scaling:.2f}x one worker's jobs/s (the floor's own "
                          f"scaling in this run: {floor_scaling:.2f}x)"
                          + (f" (target >= {SCALING_TARGET}): {_mark(scaling >= SCALING_TARGET)}" if judged else ""))
        kefu = {w: results.get((backend, VARIANTS[0], w)) for w in opts.workers}
        if all(kefu.values()) and not any(m.problems for ms in kefu.values() for m in ms):
            notes.append(f"{backend}: every kefu round delivered each of its mails exactly once (distinct "
                         f"Message-IDs), every outbox row and effect was done on its first attempt, no failed RQ job.")

    setup = (f"{opts.jobs:,} jobs per variant and worker count, split into {opts.rounds} round(s) that alternate "
             f"the order of the variants. "
             f"kefu: `mail.notice` (notice={NOTICE!r}, one per seeded ticket) relayed to Redis before "
             f"`kefu worker --no-periodic` starts; time from starting the workers until the SMTP sink "
             f"(aiosmtpd in the bench process) has every mail. Floor: `{FLOOR_FUNC}` jobs through plain "
             f"`rq worker --with-scheduler` (a forked work horse per job; `kefu worker` runs jobs in its own "
             f"process); time until RQ's finished registry holds every job. Times include worker start-up (`first s`: median time to the first finished job). "
             f"jobs/s is over all rounds; 'rounds jobs/s' is the slowest-fastest round. "
             f"Load average at start {load[0]:.2f}, at end {load[1]:.2f}.")
    widths = [max(len(h), *(len(r[i]) for r in rows)) if rows else len(h) for i, h in enumerate(header)]

    def line(cells):
        return "  ".join(c.rjust(w) if i >= 2 else c.ljust(w) for i, (c, w) in enumerate(zip(cells, widths))).rstrip()

    text = "\n".join([line(header), line(["-" * w for w in widths]), *map(line, rows), "", *checks, *notes,
                      *(["", "Problems (marked !):", *problems] if problems else []),
                      "", setup, f"Total time {elapsed:.0f} s."])
    md_rows = ["| " + " | ".join(header) + " |",
               "|" + "|".join("---:" if i >= 2 else "---" for i in range(len(header))) + "|"]
    md_rows += ["| " + " | ".join(r) + " |" for r in rows]
    machine = (f"{platform.system()} {platform.release()}, {os.cpu_count()} CPUs, "
               f"Python {platform.python_version()}, {_versions()}")
    md = "\n".join([
        f"Run {datetime.now().strftime('%Y-%m-%d %H:%M')}, {elapsed:.0f} s, on {machine}:", "",
        "```", opts.command, "```", "", *md_rows, "", *[f"- {n}" for n in checks + notes], "",
        *(["Problems (marked !):", "", *[f"- {p}" for p in problems], ""] if problems else []),
        setup, "",
    ])
    return text, md


def _versions() -> str:
    from importlib.metadata import version

    git = subprocess.run(["git", "describe", "--always", "--dirty"], cwd=ROOT, capture_output=True, text=True,
                         check=False)
    out = [f"kefu {git.stdout.strip() or 'unknown revision'}"]
    out += [f"{name} {version(name)}" for name in ("rq", "redis", "aiosmtpd", "sqlalchemy", "psycopg")]
    redis_server = shutil.which("redis-server")
    if redis_server:
        v = subprocess.run([redis_server, "--version"], capture_output=True, text=True, check=False).stdout
        out.append("redis-server " + (re.search(r"v=(\S+)", v) or [None, "?"])[1])
    pg = sorted(Path("/usr/lib/postgresql").glob("*/bin/postgres"))
    if pg:
        out.append(subprocess.run([str(pg[-1]), "--version"], capture_output=True, text=True,
                                  check=False).stdout.strip())
    return ", ".join(out)


def parse_args(argv=None) -> Options:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--backends", help="comma-separated: sqlite, postgresql "
                                           "(default: both, in that order; quick: sqlite)")
    parser.add_argument("--jobs", type=int, help="jobs per variant and worker count, split over the rounds; "
                                               "also the number of seeded tickets (default 2000; quick 200)")
    parser.add_argument("--rounds", type=int, help="rounds, order reversed every other one (default 3; quick 1)")
    parser.add_argument("--workers", default="1,2", help="worker counts to compare (default 1,2)")
    parser.add_argument("--max-seconds", type=float, default=600, help="time bound per measurement (default 600)")
    parser.add_argument("--quick", action="store_true", help="smoke run: 200 jobs, 1 round, SQLite only")
    parser.add_argument("--keep", action="store_true", help="keep the temporary directory (worker logs, SQLite file)")
    args = parser.parse_args(argv)
    backends = [b.strip() for b in (args.backends or ("sqlite" if args.quick else "sqlite,postgresql")).split(",")
                if b.strip()]
    for b in backends:
        if b not in ("sqlite", "postgresql"):
            parser.error(f"unknown backend {b!r}")
    try:
        workers = sorted({int(w) for w in args.workers.split(",") if w.strip()})
    except ValueError:
        parser.error("--workers takes comma-separated numbers")
    if not workers or min(workers) < 1:
        parser.error("--workers needs at least one count >= 1")
    opts = Options(backends=backends, jobs=args.jobs or (200 if args.quick else 2_000),
                   rounds=args.rounds or (1 if args.quick else 3), workers=workers,
                   max_seconds=args.max_seconds, keep=args.keep,
                   command=" ".join([".venv/bin/python", "bench/jobs_bench.py",
                                     *(sys.argv[1:] if argv is None else argv)]))
    if opts.rounds < 1 or opts.jobs < opts.rounds:
        parser.error("--rounds must be at least 1 and --jobs at least --rounds")
    return opts


def main(argv=None) -> int:
    opts = parse_args(argv)
    started, load_start = time.monotonic(), os.getloadavg()[0]
    log(f"load average {load_start:.2f}")
    results: dict = {}
    try:
        for backend in opts.backends:
            log(f"== {backend} ==")
            run_backend(backend, opts, results)
    except KeyboardInterrupt:  # everything started is stopped by now (finally blocks)
        log("interrupted; everything this run started is stopped")
        return 130
    text, md = build_report(results, opts, time.monotonic() - started, (load_start, os.getloadavg()[0]))
    print(text)
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "jobs-latest.md").write_text(md)
    log(f"wrote {RESULTS / 'jobs-latest.md'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
