"""Soak: kefu served as in production (PostgreSQL, Redis, gunicorn, kefu workers) under
a fixed rate of mixed traffic for ``--minutes``, watched for drift.

What it runs
------------
1. A throwaway PostgreSQL cluster (``scripts/pg.sh``), a throwaway
   ``redis-server`` and an SMTP sink in this process (aiosmtpd on
   127.0.0.1, keeping each mail's Message-ID and ``X-Kefu-Notice``), all on
   free loopback ports; kefu is configured by ``KEFU_*`` environment
   variables only (``KEFU_DATABASE_URL``, ``KEFU_REDIS_URL``,
   ``KEFU_SMTP_HOST``/``PORT``, ``KEFU_SECRET_KEY``).
2. ``kefu db upgrade``, an agent from ``kefu staff create``, then
   ``--tickets`` tickets (1,000) with departments and customers seeded in
   bulk as ``bench/api_bench.py`` does, so that reads and lists have data.
3. gunicorn with ``--workers`` (4) sync workers serving
   ``service.app:create_app()`` (auth on, every discovered plugin enabled)
   and ``--job-workers`` (2) ``kefu worker`` processes: the first also runs
   the periodic ticker, the others ``--no-periodic``.
4. Open-loop traffic at ``--rate`` requests per second (a dispatcher hands
   out start times ``i / rate``; ``--clients`` threads send them, so a slow
   answer does not slow the arrivals). Each request is one operation,
   picked by weight (``WEIGHTS``):

   ============  =====================================================================
   create        ``POST /api/v1/public/tickets`` (the customer's form; no login)
   get           ``GET /api/v1/tickets/<number>`` (agent token; seeded or soak tickets)
   list          ``GET /api/v1/tickets?limit=25`` (first page)
   list_filter   the same with a filter: status, priority, kind, department or assignee
   transition    ``POST .../transitions``: confirm (department), start, wait (30 %
                 once), resolve (resolution) on the soak's own tickets, oldest first
   reply         ``POST /api/v1/public/tickets/<token>/messages``: the customer writes,
                 first to tickets that wait on them
   survey        ``POST /api/v1/public/surveys/<token>``: the satisfaction survey,
                 its link read from the invitation mail the sink received; 85 %
                 "solved" 4-5 (the ticket closes), 15 % "not solved" 1-2 (it reopens)
   ============  =====================================================================

   A ticket is used by one request at a time and its ``version`` is the one
   the last staff answer showed, so no request is stale or illegal on
   purpose: every answer that is not 2xx is an error. When an operation has
   no ticket to work on (none waits for it yet) a ``get`` goes instead
   (counted as substituted); when a ticket's version is unknown (after a
   customer's reply or a survey answer) the transition slot becomes the
   agent's ``get`` of that ticket first, as an agent opens a ticket before
   acting on it.
5. ``--warmup`` seconds (30) of the same traffic come first and are not in
   the latency tables (their errors are counted): they fill the pipeline of
   tickets and warm the processes, so "start" RSS is a warm process's.
6. Every ``--sample-seconds`` (5) the queue depth: outbox rows not done,
   jobs waiting on the RQ queues, and RQ's scheduled jobs; RSS of every
   process (``/proc/PID/status`` VmRSS) before the warm-up, at the start
   and at the end of the measured traffic.
7. At the end: the traffic stops, the time until the queue is drained (no
   outbox row open, every RQ queue empty) is measured, then every mail is
   checked: no Message-ID twice at the sink, one sent mail per done mail
   effect and per done mail outbox row, and the mails the soak's own
   requests must cause (receipts, confirmations, resolutions, survey
   invitations, closings) all arrived.

Targets (from the issue): 0 errors; p99 flat over the run (last minute's p99
within 1.3x of the first's, for all requests and for each operation with at
least ``MIN_JUDGED`` requests in both minutes); RSS growth under 10 % for
kefu's processes (gunicorn master and workers, kefu workers and their RQ
scheduler children; Redis and PostgreSQL are shown, not judged: they grow
with kept data by design); the queue drained within 30 s; every mail sent
once. Each is marked PASS or MISS.

Running it
----------
From the repository root, with the test extras installed (``make test-deps``:
PostgreSQL 15 and redis-server from Debian)::

    .venv/bin/python bench/soak.py                 # 10 minutes at 20 req/s, about 12 minutes in all
    .venv/bin/python bench/soak.py --quick         # 2 minutes at 10 req/s
    .venv/bin/python bench/soak.py --minutes 2 --rate 30 --keep

The report (Markdown) goes to stdout and to ``bench/results/soak-latest.md``
(git-ignored); progress goes to stderr. Everything it starts (PostgreSQL,
redis-server, gunicorn, the kefu workers, the SMTP sink) is stopped by its
pid when the run ends, also on errors and Ctrl-C; the temporary directory
(logs) is removed unless ``--keep`` is given.
"""
from __future__ import annotations

import argparse
import email
import email.policy
import http.client
import json
import math
import os
import platform
import queue
import random
import re
import secrets
import shutil
import sys
import tempfile
import threading
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import api_bench as ab  # noqa: E402  (bench/api_bench.py: servers, PostgreSQL, seeding; puts the repository on sys.path)
import jobs_bench as jb  # noqa: E402  (bench/jobs_bench.py: redis-server, SMTP sink, workers)
import sqlalchemy as sa  # noqa: E402
from redis import Redis  # noqa: E402
from rq import Queue  # noqa: E402
from rq.registry import FailedJobRegistry, ScheduledJobRegistry  # noqa: E402

from service.demo import DEPARTMENTS  # noqa: E402
from service.models import Ticket, TicketEvent  # noqa: E402

log = ab.log
BENCH, ROOT, BIN, RESULTS = ab.BENCH, ab.ROOT, ab.BIN, ab.RESULTS

# Operations and their weights (per 100 requests). Over its life a soak
# ticket takes about 5.2 transition slots: confirm, start, resolve, a wait
# for 30 %, a second resolve after the 15 % of bad survey answers, and the
# agent's read before acting whenever the version is unknown (after filing,
# after each customer reply, after a survey answer); and about 1.15 survey
# answers. With 8 creates that is about 42 transition and 9 survey slots:
# the weights give both headroom, so the pipeline of open tickets stays level
# instead of growing over the run; slots left without work become gets.
WEIGHTS = {"create": 8, "get": 14, "list": 6, "list_filter": 6, "transition": 48, "reply": 5, "survey": 13}
OPS = tuple(WEIGHTS)
DEFAULT_RATE = 20.0  # req/s; see bench/README.md "Soak" for why
P99_FLAT = 1.3  # last minute's p99 / first minute's p99
RSS_GROWTH = 0.10  # end / start - 1, kefu's processes
DRAIN_SECONDS = 30.0
MIN_JUDGED = 100  # an operation's p99 is judged only with this many requests in each compared minute
WAIT_SHARE = 0.3  # in-progress tickets that wait on the customer once before their resolution
BAD_ANSWER_SHARE = 0.15  # survey answers "not solved" (the ticket reopens)
CUSTOMERS = 400  # distinct customers filing through the public form
LAG_LATE = 0.1  # seconds behind schedule that count as a late start
# Notices the soak's own successful requests cause, one mail each (see expected_mails).
PREDICTED = ("received", "confirmed", "waiting", "resolved", "survey_invite", "closed")


# --------------------------------------------------------------------------- processes

CLOCK_TICK = os.sysconf("SC_CLK_TCK")


@dataclass(frozen=True)
class Proc:
    """One process at one moment: resident set size and CPU time used so far."""

    label: str
    rss_kb: int
    cpu_seconds: float
    judged: bool  # counts for the RSS target (kefu's own processes)


def proc_stats(pid: int) -> tuple[int, float] | None:
    """``(VmRSS in kB, user + system CPU seconds)`` of ``pid``, or None when it is gone."""
    try:
        with open(f"/proc/{pid}/status") as fh:
            rss = next((int(line.split()[1]) for line in fh if line.startswith("VmRSS:")), None)
        with open(f"/proc/{pid}/stat") as fh:
            fields = fh.read().rsplit(")", 1)[1].split()
    except (OSError, StopIteration):
        return None
    if rss is None:  # a zombie has no memory left to report
        return None
    # utime and stime are fields 14 and 15 of stat; fields[0] here is field 3.
    return rss, (int(fields[11]) + int(fields[12])) / CLOCK_TICK


def children_of() -> dict[int, list[int]]:
    """Every process's children, by parent pid (from ``/proc/*/stat``)."""
    out: dict[int, list[int]] = defaultdict(list)
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as fh:
                stat = fh.read()
        except OSError:
            continue
        # The command name is in parentheses and may hold spaces: split after it.
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        out[ppid].append(int(entry))
    return out


class SoakServer(ab.Server):
    """``api_bench.Server`` with a worker count of its own and the workers'
    output kept (``--capture-output``): a 500's traceback must reach the log.
    Started once every worker is up (the RSS report counts them)."""

    def __init__(self, *args, workers: int, **kwargs):
        super().__init__(*args, workers=workers, capture_output=True, **kwargs)

    def ready(self) -> bool:
        return len(children_of().get(self.proc.pid, [])) >= self.workers


@dataclass
class Watched:
    """The processes whose RSS is reported: role -> leader pid (children are found each time)."""

    roles: list[tuple[str, int, bool]] = field(default_factory=list)  # (role, pid, judged)

    def snapshot(self) -> dict[int, Proc]:
        """Every watched process and its descendants now, by pid."""
        tree = children_of()
        out = {}
        for role, pid, judged in self.roles:
            child_label = "gunicorn worker" if role == "gunicorn master" else f"{role} child"
            stack = [(pid, role)]
            if pid == os.getpid():  # this script: its children are the servers, listed on their own
                stats = proc_stats(pid)
                if stats is not None:
                    out[pid] = Proc(role, stats[0], stats[1], judged)
                continue
            while stack:
                current, label = stack.pop()
                stats = proc_stats(current)
                if stats is not None:
                    out[current] = Proc(label, stats[0], stats[1], judged)
                stack += [(c, child_label) for c in tree.get(current, [])]
        return out

    def kefu_total_kb(self) -> int:
        """RSS of kefu's own processes together (the judged ones), kB."""
        return sum(p.rss_kb for p in self.snapshot().values() if p.judged)


# --------------------------------------------------------------------------- SMTP sink

class NoticeHandler(jb.CountingHandler):
    """``jobs_bench.CountingHandler`` that also keeps each mail's notice and
    Message-ID, and hands survey invitations' links to the traffic."""

    SURVEY_LINK = re.compile(r"/survey/([A-Za-z0-9_.\-]+)")

    def __init__(self):
        super().__init__()
        self.notices: Counter = Counter()
        self.ids_by_notice: dict[str, set] = defaultdict(set)
        self.on_survey = None  # callable(number, token)

    async def handle_DATA(self, server, session, envelope):
        answer = await super().handle_DATA(server, session, envelope)
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        notice, number = str(message.get("X-Kefu-Notice") or "?"), str(message.get("X-Kefu-Ticket") or "")
        with self.lock:
            self.notices[notice] += 1
            self.ids_by_notice[notice].add(str(message.get("Message-ID")))
        if notice == "survey_invite" and self.on_survey is not None:
            body = message.get_body(("plain",))
            match = self.SURVEY_LINK.search(body.get_content() if body is not None else "")
            if match:
                self.on_survey(number, match.group(1))
        return answer


# --------------------------------------------------------------------------- traffic

@dataclass
class Tracked:
    """A ticket the soak filed: what the last answer about it said."""

    number: str
    token: str
    status: str = "new"
    version: int | None = None  # None: unknown, read it before the next transition
    waited: bool = False
    busy: bool = False


@dataclass
class Plan:
    op: str  # as recorded
    method: str
    path: str
    body: bytes | None
    headers: dict
    ticket: Tracked | None = None
    action: str | None = None  # transition action, "refresh" for the get before one, survey outcome wanted
    wanted: str | None = None  # the op that was picked, when another one went instead


class Recorder:
    """Latencies by (minute, op), errors, start lags; minute -1 is the warm-up."""

    def __init__(self):
        self.lock = threading.Lock()
        self.latencies: dict[tuple[int, str], list[float]] = defaultdict(list)
        self.errors: Counter = Counter()  # (minute, op, status)
        self.error_samples: dict[tuple[str, int], str] = {}
        self.lags: dict[int, list[float]] = defaultdict(list)
        self.substituted: Counter = Counter()  # (wanted op) -> times a get went instead
        self.refreshes = 0
        self.actions: Counter = Counter()  # successful transition actions, survey outcomes, ...

    def add(self, minute: int, plan: Plan, lag: float, seconds: float, status: int, body: bytes) -> None:
        with self.lock:
            self.latencies[(minute, plan.op)].append(seconds)
            self.lags[minute].append(lag)
            if plan.wanted:
                self.substituted[plan.wanted] += 1
            if plan.action == "refresh":
                self.refreshes += 1
            if not 200 <= status < 300:
                self.errors[(minute, plan.op, status)] += 1
                self.error_samples.setdefault(
                    (plan.op, status), f"{plan.method} {plan.path} -> {status}: {body[:300].decode(errors='replace')}")


class Traffic:
    """The soak's customers and agent: picks each request's operation and
    ticket, sends it, and keeps what the answer says about the ticket."""

    def __init__(self, port: int, token: str, seeded: int, agent_id: int, rng_seed: int):
        self.port = port
        self.staff = {"Authorization": f"Bearer {token}", "Accept": "application/json"}
        self.staff_json = {**self.staff, "Content-Type": "application/json"}
        self.public_json = {"Accept": "application/json", "Content-Type": "application/json"}
        self.agent_id = agent_id
        self.lock = threading.Lock()
        self.numbers = [f"KF-{n:06d}" for n in range(1, seeded + 1)]  # every ticket a get may read
        self.active: dict[str, Tracked] = {}  # the soak's tickets not closed, oldest first
        self.survey_tokens: dict[str, str] = {}
        self.recorder = Recorder()
        self.rng_seed = rng_seed
        self.measure_start = float("inf")
        self.tasks: queue.Queue = queue.Queue()
        self.threads: list[threading.Thread] = []

    # ------------------------------------------------------------ picking

    def survey_mailed(self, number: str, token: str) -> None:
        """The sink received a survey invitation for ``number``."""
        with self.lock:
            self.survey_tokens[number] = token

    def _oldest(self, test) -> Tracked | None:
        return next((t for t in self.active.values() if not t.busy and test(t)), None)

    def _get(self, rng: random.Random, wanted: str | None = None) -> Plan:
        number = rng.choice(self.numbers)
        return Plan("get", "GET", f"/api/v1/tickets/{number}", None, self.staff, wanted=wanted)

    def plan(self, op: str, rng: random.Random) -> Plan:
        """The request for ``op`` now (marks its ticket busy); a get when ``op`` has no ticket to work on."""
        with self.lock:
            if op == "create":
                n = rng.randint(1, CUSTOMERS)
                body = {"name": f"Soak Customer {n}", "email": f"soak-customer-{n}@example.test",
                        "language": "zh_CN" if n % 3 == 0 else "en",
                        "kind": rng.choice(("complaint", "service_request", "inquiry")),
                        "subject": "Soak: the parcel arrived damaged",
                        "description": "The parcel arrived with a broken corner and the item inside does not "
                                       "switch on. Please advise how to return it."}
                return Plan("create", "POST", "/api/v1/public/tickets", json.dumps(body).encode(), self.public_json)
            if op == "get":
                return self._get(rng)
            if op == "list":
                return Plan("list", "GET", "/api/v1/tickets?limit=25", None, self.staff)
            if op == "list_filter":
                query = rng.choice((
                    "status=in_progress", "status=new&status=confirmed", "priority=high", "kind=complaint",
                    f"department={rng.choice(DEPARTMENTS)[0]}", f"assignee={self.agent_id}&status=resolved"))
                return Plan("list_filter", "GET", f"/api/v1/tickets?{query}&limit=25", None, self.staff)
            if op == "transition":
                ticket = self._oldest(lambda t: t.status in ("new", "confirmed", "in_progress"))
                if ticket is None:
                    return self._get(rng, wanted="transition")
                ticket.busy = True
                if ticket.version is None:
                    return Plan("get", "GET", f"/api/v1/tickets/{ticket.number}", None, self.staff,
                                ticket=ticket, action="refresh")
                values: dict = {}
                if ticket.status == "new":
                    action, values = "confirm", {"department": rng.choice(DEPARTMENTS)[0]}
                elif ticket.status == "confirmed":
                    action = "start"
                elif not ticket.waited and rng.random() < WAIT_SHARE:
                    action = "wait"
                else:
                    action, values = "resolve", {"resolution": "Replaced the item; the new one is on its way."}
                body = json.dumps({"action": action, "version": ticket.version, **values}).encode()
                return Plan("transition", "POST", f"/api/v1/tickets/{ticket.number}/transitions", body,
                            self.staff_json, ticket=ticket, action=action)
            if op == "reply":
                ticket = (self._oldest(lambda t: t.status == "waiting_on_customer")
                          or self._oldest(lambda t: t.status in ("new", "confirmed", "in_progress")))
                if ticket is None:
                    return self._get(rng, wanted="reply")
                ticket.busy = True
                body = json.dumps({"body": "Any news? I still cannot use the item."}).encode()
                return Plan("reply", "POST", f"/api/v1/public/tickets/{ticket.token}/messages", body,
                            self.public_json, ticket=ticket)
            if op == "survey":
                ticket = self._oldest(lambda t: t.status == "resolved" and t.number in self.survey_tokens)
                if ticket is None:
                    return self._get(rng, wanted="survey")
                ticket.busy = True
                bad = rng.random() < BAD_ANSWER_SHARE
                answer = ({"solved": False, "rating": rng.choice((1, 2)), "comment": "Still broken."} if bad
                          else {"solved": True, "rating": rng.choice((4, 5))})
                return Plan("survey", "POST", f"/api/v1/public/surveys/{self.survey_tokens[ticket.number]}",
                            json.dumps(answer).encode(), self.public_json, ticket=ticket,
                            action="bad" if bad else "good")
            raise ValueError(op)

    # ------------------------------------------------------------ answers

    def apply(self, plan: Plan, status: int, body: bytes) -> None:
        """Keep what the answer says about the ticket; free it for the next request."""
        ok = 200 <= status < 300
        data = {}
        if ok and body:
            try:
                data = json.loads(body)
            except ValueError:
                data = {}
        with self.lock:
            ticket = plan.ticket
            if plan.op == "create" and ok:
                self.active[data["number"]] = Tracked(data["number"], data["token"], data.get("status", "new"))
                self.numbers.append(data["number"])
                self.recorder.actions["create"] += 1
            if ticket is None:
                return
            ticket.busy = False
            if not ok:
                ticket.version = None  # read it again before acting
                return
            if plan.action == "refresh" or plan.op == "transition":
                ticket.status, ticket.version = data["status"], data["version"]
                if plan.op == "transition":
                    self.recorder.actions[plan.action] += 1
                    ticket.waited = ticket.waited or plan.action == "wait"
            elif plan.op == "reply":
                self.recorder.actions["reply"] += 1
                if ticket.status == "waiting_on_customer":
                    ticket.status = "in_progress"
                ticket.version = None
            elif plan.op == "survey":
                self.recorder.actions[f"survey_{data.get('outcome', '?')}"] += 1
                self.survey_tokens.pop(ticket.number, None)  # single use; a new round mails a new one
                ticket.status, ticket.version = data["status"], None
            if ticket.status in ("closed", "cancelled"):
                self.active.pop(ticket.number, None)

    # ------------------------------------------------------------ sending

    def _client(self, index: int) -> None:
        rng = random.Random(self.rng_seed * 1000 + index)
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
        weights = list(WEIGHTS.values())
        while True:
            intended = self.tasks.get()
            if intended is None:
                conn.close()
                return
            plan = self.plan(rng.choices(OPS, weights)[0], rng)
            sent = time.monotonic()
            status, body = ab._send(conn, (plan.method, plan.path, plan.body, plan.headers))
            seconds = time.monotonic() - sent
            minute = int((intended - self.measure_start) // 60) if intended >= self.measure_start else -1
            self.recorder.add(minute, plan, sent - intended, seconds, status, body)
            self.apply(plan, status, body)

    def start_clients(self, count: int) -> None:
        for i in range(count):
            thread = threading.Thread(target=self._client, args=(i,), name=f"soak-client-{i}", daemon=True)
            thread.start()
            self.threads.append(thread)

    def stop_clients(self, timeout: float = 90, discard: bool = False) -> None:
        """Let the requests in flight finish (and, unless ``discard``, the ones
        handed out but not sent yet), then end every client thread."""
        while discard:
            try:
                self.tasks.get_nowait()
            except queue.Empty:
                break
        for _ in self.threads:
            self.tasks.put(None)
        deadline = time.monotonic() + timeout
        for thread in self.threads:
            thread.join(max(0.1, deadline - time.monotonic()))
        self.threads = [t for t in self.threads if t.is_alive()]

    def run(self, rate: float, warmup: float, seconds: float, stop: threading.Event, on_measure=None,
            on_minute=None) -> float:
        """Hand out start times at ``rate`` per second for ``warmup + seconds``
        (open loop: arrivals do not wait for answers); returns the measured start.
        ``on_measure()`` runs when the warm-up ends, ``on_minute(m)`` after each measured minute."""
        start = time.monotonic()
        self.measure_start = start + warmup
        end = self.measure_start + seconds
        i, measuring, minute = 0, warmup <= 0, 0
        if measuring and on_measure:
            on_measure()
        while not stop.is_set():
            at = start + i / rate
            if at >= end:
                break
            now = time.monotonic()
            if not measuring and now >= self.measure_start:
                measuring = True
                if on_measure:
                    on_measure()
            if measuring and on_minute and now >= self.measure_start + 60 * (minute + 1):
                minute += 1
                on_minute(minute)
            if at > now and stop.wait(at - now):
                break
            self.tasks.put(at)
            i += 1
        return self.measure_start


# --------------------------------------------------------------------------- queue depth

class Sampler(threading.Thread):
    """Every ``every`` seconds: outbox rows not done, RQ jobs waiting and
    scheduled, and the RSS of kefu's processes."""

    def __init__(self, engine: sa.Engine, redis_url: str, watched: Watched, every: float):
        super().__init__(name="soak-sampler", daemon=True)
        self.engine, self.redis_url, self.watched, self.every = engine, redis_url, watched, every
        self.samples: list[tuple[float, dict]] = []
        self.stopped = threading.Event()
        self.lock = threading.Lock()

    def run(self) -> None:
        conn = Redis.from_url(self.redis_url)
        try:
            while not self.stopped.wait(self.every):
                try:
                    sample = depth(self.engine, conn)
                    sample["rss_kb"] = self.watched.kefu_total_kb()
                except Exception as exc:  # reported, never fatal: the soak goes on
                    sample = {"error": repr(exc)}
                with self.lock:
                    self.samples.append((time.monotonic(), sample))
        finally:
            conn.close()


def depth(engine: sa.Engine, conn: Redis) -> dict:
    """The queue depth now: ``outbox`` rows neither done nor failed, ``queued``
    jobs on every RQ queue, ``scheduled`` RQ jobs (delayed deliveries, retries)."""
    with engine.connect() as db:
        outbox = db.scalar(sa.text("SELECT count(*) FROM jobs_outbox WHERE done_at IS NULL AND failed_at IS NULL"))
    queues = Queue.all(connection=conn)
    return {"outbox": outbox, "queued": sum(q.count for q in queues),
            # No cleanup: the sampler only looks, it never moves a job.
            "scheduled": sum(ScheduledJobRegistry(queue=q).get_job_count(cleanup=False) for q in queues)}


def wait_drained(engine: sa.Engine, conn: Redis, timeout: float) -> float | None:
    """Seconds until no outbox row is open and every RQ queue is empty (checked
    every 0.2 s), or None after ``timeout``."""
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        d = depth(engine, conn)
        if d["outbox"] == 0 and d["queued"] == 0:
            return time.monotonic() - started
        time.sleep(0.2)
    return None


# --------------------------------------------------------------------------- checks

def mail_check(engine: sa.Engine, conn: Redis, sink: NoticeHandler, actions: Counter) -> dict:
    """Every mail once: sink counts, effects, outbox rows, expected notices, failed jobs."""
    with engine.connect() as db:
        effects_done, effects_open = db.execute(sa.text(
            "SELECT count(done_at), count(*) - count(done_at) FROM job_effects WHERE key LIKE 'mail:%'")).one()
        rows = db.execute(sa.text(
            "SELECT name, count(*), count(done_at), count(failed_at), "
            "sum(CASE WHEN attempts > 1 THEN 1 ELSE 0 END), count(last_error) "
            "FROM jobs_outbox GROUP BY name ORDER BY name")).all()
        sample_error = db.scalar(sa.text("SELECT last_error FROM jobs_outbox WHERE last_error IS NOT NULL LIMIT 1"))
        # A mail.staff_alerts row stands for one mail per alert it carries.
        batched = db.scalar(sa.text(
            "SELECT coalesce(sum(json_array_length((kwargs::json)->'alerts')), 0) FROM jobs_outbox "
            "WHERE name = 'mail.staff_alerts' AND done_at IS NOT NULL"))
    failed = {q.name: FailedJobRegistry(queue=q).get_job_count(cleanup=False) for q in Queue.all(connection=conn)}
    with sink.lock:
        count, distinct = sink.count, len(sink.ids)
        notices = dict(sink.notices)
        distinct_by_notice = {k: len(v) for k, v in sink.ids_by_notice.items()}
    single_mail_jobs = ("mail.notice", "mail.staff_alert", "satisfaction_survey.deliver")
    mail_rows_done = sum(r[2] for r in rows if r[0] in single_mail_jobs) + int(batched)
    return {"count": count, "distinct": distinct, "effects_done": effects_done, "effects_open": effects_open,
            "outbox": [tuple(r) for r in rows], "mail_rows_done": mail_rows_done,
            "sample_error": sample_error, "failed_jobs": failed, "notices": notices,
            "distinct_by_notice": distinct_by_notice, "expected": expected_mails(actions)}


def expected_mails(actions: Counter) -> dict[str, int]:
    """The customer mails the soak's successful requests must have caused, by notice."""
    return {"received": actions["create"], "confirmed": actions["confirm"], "waiting": actions["wait"],
            "resolved": actions["resolve"], "survey_invite": actions["resolve"],
            "closed": actions["survey_closed"]}


def log_problems(paths: list[Path], limit: int = 40) -> list[str]:
    """Lines of the server and worker logs that report an error or a traceback."""
    pattern = re.compile(r"Traceback|\bERROR\b|\bCRITICAL\b|Exception|Error:|WORKER TIMEOUT|Worker .* was sent")
    out = []
    for path in paths:
        if not path.exists():
            continue
        lines = path.read_text(errors="replace").splitlines()
        for i, line in enumerate(lines):
            if pattern.search(line):
                out.append(f"{path.name}:{i + 1}: {line[:300]}")
                if len(out) >= limit:
                    return out
    return out


# --------------------------------------------------------------------------- run

@dataclass
class Options:
    minutes: float
    rate: float
    workers: int
    job_workers: int
    clients: int
    tickets: int
    warmup: float
    sample_seconds: float
    survey_delay: int
    drain_timeout: float
    seed: int
    keep: bool
    command: str


@dataclass
class Run:
    """Everything the report needs."""

    opts: Options
    recorder: Recorder | None = None
    samples: list = field(default_factory=list)
    measure_start: float = 0.0
    measured_end: float = 0.0
    rss: dict = field(default_factory=dict)  # phase -> snapshot
    drain: float | None = None
    drain_at_end: dict = field(default_factory=dict)
    mail: dict = field(default_factory=dict)
    logs: list = field(default_factory=list)
    redis_memory: dict = field(default_factory=dict)  # phase -> (used_memory, keys)
    minute_rss: dict = field(default_factory=dict)  # minute -> kefu total kB at its end
    mail_marks: dict = field(default_factory=dict)  # minute -> mails the sink had at its end (-1: start)
    mail_before: dict = field(default_factory=dict)  # notice -> mails received before the traffic
    elapsed: float = 0.0
    load: tuple = (0.0, 0.0)
    interrupted: bool = False


def seed(url: str, agent_email: str, tickets: int) -> ab.Seed:
    """Departments, customers and ``tickets`` tickets (each with its ``created``
    event) in bulk, as ``api_bench.seed_tickets`` does for kefu."""
    started = time.monotonic()
    reference = ab.seed_reference(url, agent_email, customers=max(200, tickets // 5), final_tickets=tickets)
    engine = ab.seed_engine(url)
    with engine.begin() as conn:
        for chunk in ab._chunks(ab.ticket_rows(reference, 1, tickets)):
            conn.execute(Ticket.__table__.insert(), chunk)
            conn.execute(TicketEvent.__table__.insert(), [
                {"ticket_id": r["id"], "at": r["created_at"], "actor_type": "staff", "actor_id": reference.staff_id,
                 "actor_name": "Soak Agent", "action": "created", "from_status": None, "to_status": "new",
                 "details": {"channel": r["channel"], "kind": r["kind"], "seeded": True}} for r in chunk])
        ab._reset_sequence(conn, "tickets")
    ab._analyze(engine)
    engine.dispose()
    reference.tickets = tickets
    log(f"seeded {tickets:,} tickets in {time.monotonic() - started:.1f} s")
    return reference


def _redis_memory(conn: Redis) -> tuple[int, int]:
    return int(conn.info("memory")["used_memory"]), int(conn.dbsize())


def soak(opts: Options, result: Run) -> None:
    """Start everything, run the traffic, measure, check. Everything started
    is stopped by its pid in ``finally`` blocks, in reverse order (the
    servers before the database they use)."""
    workdir = Path(tempfile.mkdtemp(prefix="kefu-soak-"))
    redis = conn = None
    stop = threading.Event()
    try:
        redis = jb.RedisServer(workdir).start()
        conn = Redis.from_url(redis.url)
        with jb.smtp_sink(NoticeHandler()) as (smtp_port, sink), ab.postgresql_cluster() as pg_port:
            url = f"postgresql+psycopg://postgres@127.0.0.1:{pg_port}/kefu_test"
            env = ab.clean_env(
                KEFU_INSTANCE_PATH=str(workdir / "instance"), KEFU_DATABASE_URL=url, KEFU_REDIS_URL=redis.url,
                KEFU_SMTP_HOST="127.0.0.1", KEFU_SMTP_PORT=str(smtp_port),
                KEFU_SECRET_KEY=f"soak-{secrets.token_hex(16)}", KEFU_JOBS_IN_PROCESS="false",
                # Every client is 127.0.0.1, one bucket: a limit far above the soak's rate keeps
                # the limiter counting in Redis on every public request without refusing one.
                KEFU_PUBLIC_RATE_LIMIT="1000000 per minute",
                # Surveys go out this long after a resolution (default an hour): within the run.
                KEFU_SURVEY_DELAY=str(opts.survey_delay))
            ab.kefu_cli(env, "db", "upgrade")
            agent_email = "soak-agent@example.test"
            token = ab.kefu_cli(env, "staff", "create", "--email", agent_email, "--name", "Soak Agent",
                                "--role", "agent").strip().splitlines()[-1]
            reference = seed(url, agent_email, opts.tickets)
            engine = sa.create_engine(url, pool_size=2, max_overflow=2)
            server = None
            workers = jb.Workers(workdir, "kefu-worker")
            try:
                with engine.connect() as db:
                    data_dir = db.scalar(sa.text("SHOW data_directory"))
                postmaster = int(Path(data_dir, "postmaster.pid").read_text().split()[0])
                server = SoakServer("kefu", "service.app:create_app()", env, workdir, "/api/v1/openapi.json",
                                    workers=opts.workers)
                server.start(timeout=60)
                for i in range(opts.job_workers):
                    workers.start([str(BIN / "kefu"), "worker", *([] if i == 0 else ["--no-periodic"])], env)
                log(f"kefu worker pids {[p.pid for p in workers.procs]} (the first runs the periodic ticker)")
                watched = Watched([("gunicorn master", server.proc.pid, True)]
                                  + [(f"kefu worker {i + 1}" + (" (periodic)" if i == 0 else ""), p.pid, True)
                                     for i, p in enumerate(workers.procs)]
                                  + [("redis-server", redis.proc.pid, False), ("postgres", postmaster, False),
                                     ("this script: clients, SMTP sink", os.getpid(), False)])
                settled = wait_settled(engine, conn, workers, opts.job_workers, 180)
                log(f"workers up and start-up jobs done in {settled:.1f} s")
                measure(opts, result, server, watched, engine, conn, redis.url, sink, token, reference, stop)
                if workers.dead():
                    result.logs.append(f"kefu worker exited: {[p.returncode for p in workers.dead()]}")
                result.logs += log_problems([server.logfile, *sorted(workdir.glob("kefu-worker-*.log"))])
            finally:
                stop.set()
                if workers.procs:
                    workers.stop()
                    log("kefu workers stopped")
                if server is not None:
                    server.stop()
                    log("gunicorn stopped")
                engine.dispose()
    except KeyboardInterrupt:
        result.interrupted = True
        raise
    finally:
        if conn is not None:
            conn.close()
        if redis is not None:
            redis.stop()
            log("redis-server stopped")
        if opts.keep:
            log(f"kept {workdir}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)


def wait_settled(engine: sa.Engine, conn: Redis, workers: jb.Workers, count: int, timeout: float) -> float:
    """Seconds until ``count`` kefu workers are registered with RQ and the
    periodic jobs their first tick claimed have run (the first SLA sweep
    catches up on the seeded tickets' overdue clocks, the first tier
    recompute rates every customer), with the outbox drained: the traffic
    then starts on a quiet system. ``RuntimeError`` when a worker exits or
    after ``timeout``."""
    from rq import Worker

    started = time.monotonic()
    while time.monotonic() - started < timeout:
        if workers.dead():
            raise RuntimeError(f"a kefu worker exited:\n{workers.log_tail()}")
        if Worker.count(connection=conn) >= count:
            with engine.connect() as db:
                runs, busy = db.execute(sa.text(
                    "SELECT count(*), count(*) FILTER (WHERE status IN ('queued', 'running')) "
                    "FROM periodic_runs")).one()
            if runs and not busy:
                d = depth(engine, conn)
                if d["outbox"] == 0 and d["queued"] == 0:
                    return time.monotonic() - started
        time.sleep(0.2)
    raise RuntimeError(f"kefu workers not up, or start-up jobs not done, after {timeout:g} s")


def measure(opts: Options, result: Run, server: SoakServer, watched: Watched, engine: sa.Engine, conn: Redis,
            redis_url: str, sink: NoticeHandler, token: str, reference: ab.Seed, stop: threading.Event) -> None:
    """The warm-up, the measured traffic, the drain and the mail check; fills ``result``."""
    result.rss["before"] = watched.snapshot()
    result.redis_memory["before"] = _redis_memory(conn)
    with sink.lock:
        result.mail_before = dict(sink.notices)
    traffic = Traffic(server.port, token, opts.tickets, reference.staff_id, opts.seed)
    sink.on_survey = traffic.survey_mailed
    result.recorder = traffic.recorder
    sampler = Sampler(engine, redis_url, watched, opts.sample_seconds)

    def measuring():
        result.rss["start"] = watched.snapshot()
        result.redis_memory["start"] = _redis_memory(conn)
        result.mail_marks[-1] = sink.count
        log(f"warm-up done; measuring {opts.minutes:g} min at {opts.rate:g} req/s")

    def minute_done(minute):
        m = minute - 1
        if m == 0:
            result.rss["minute 1"] = watched.snapshot()
        result.minute_rss[m] = watched.kefu_total_kb()
        result.mail_marks[m] = sink.count
        rec = traffic.recorder
        with rec.lock:
            n = sum(len(v) for (mm, _op), v in rec.latencies.items() if mm == m)
            errors = sum(c for (mm, _op, _s), c in rec.errors.items() if mm == m)
        with sampler.lock:
            last = sampler.samples[-1][1] if sampler.samples else {}
        log(f"minute {minute}: {n} requests, {errors} errors, outbox open {last.get('outbox', '?')}, "
            f"RQ queued {last.get('queued', '?')}, kefu RSS {result.minute_rss[m] / 1024:.0f} MB")

    sampler.start()
    try:
        traffic.start_clients(opts.clients)
        log(f"traffic: {opts.warmup:g} s warm-up, then {opts.minutes:g} min at {opts.rate:g} req/s "
            f"from {opts.clients} client threads")
        try:
            result.measure_start = traffic.run(opts.rate, opts.warmup, opts.minutes * 60, stop,
                                               on_measure=measuring, on_minute=minute_done)
            traffic.stop_clients()
        finally:
            if traffic.threads:  # interrupted: what was handed out but not sent is dropped
                traffic.stop_clients(timeout=10, discard=True)
        result.measured_end = time.monotonic()
        result.rss["end"] = watched.snapshot()
        result.redis_memory["end"] = _redis_memory(conn)
        last = math.ceil(opts.minutes) - 1
        result.minute_rss.setdefault(last, watched.kefu_total_kb())
        result.mail_marks.setdefault(last, sink.count)
        log("traffic stopped; waiting for the queue to drain")
        result.drain_at_end = depth(engine, conn)
        result.drain = wait_drained(engine, conn, opts.drain_timeout)
        log(f"queue drained in {result.drain:.1f} s" if result.drain is not None
            else f"queue NOT drained after {opts.drain_timeout:g} s: {depth(engine, conn)}")
    finally:
        sampler.stopped.set()
        sampler.join(10)
    result.samples = list(sampler.samples)
    result.mail = mail_check(engine, conn, sink, traffic.recorder.actions)


# --------------------------------------------------------------------------- report

def _mark(ok: bool) -> str:
    return "PASS" if ok else "MISS"


def _ms(values: list[float], q: float) -> float:
    return ab._percentile(sorted(values), q) * 1000 if values else float("nan")


def _table(header: list[str], rows: list[list[str]], right_from: int = 1) -> list[str]:
    out = ["| " + " | ".join(header) + " |",
           "|" + "|".join("---:" if i >= right_from else "---" for i in range(len(header))) + "|"]
    return out + ["| " + " | ".join(r) + " |" for r in rows]


def build_report(run: Run) -> str:
    """The run as a Markdown document."""
    opts, rec = run.opts, run.recorder
    minutes = sorted({m for (m, _op) in rec.latencies if m >= 0}) if rec else []
    lines = [f"Soak run {datetime.now().strftime('%Y-%m-%d %H:%M')}, {run.elapsed:.0f} s, on "
             f"{platform.system()} {platform.release()}, {os.cpu_count()} CPUs, Python {platform.python_version()}, "
             f"{_versions()}.", "",
             f"Load average (1 min) at start {run.load[0]:.2f}, at end {run.load[1]:.2f}.", "",
             "```", opts.command, "```", "",
             f"{opts.minutes:g} min measured after {opts.warmup:g} s of warm-up, open loop at {opts.rate:g} req/s "
             f"from {opts.clients} client threads; gunicorn {opts.workers} sync workers, {opts.job_workers} "
             f"`kefu worker` (the first with the periodic ticker); PostgreSQL, Redis, SMTP sink on 127.0.0.1; "
             f"{opts.tickets:,} seeded tickets; survey delay {opts.survey_delay} s; weights "
             + ", ".join(f"{op} {w}" for op, w in WEIGHTS.items()) + ".", ""]
    if run.interrupted:
        lines += ["**Interrupted (Ctrl-C): partial results.**", ""]
    if rec is None:
        return "\n".join(lines + ["No traffic was sent.", ""])

    # ---- totals
    all_lat = {m: [x for (mm, _op), v in rec.latencies.items() if mm == m for x in v] for m in minutes}
    errors_total = sum(rec.errors.values())
    warmup_errors = sum(c for (m, _op, _s), c in rec.errors.items() if m < 0)
    first, last = (minutes[0], minutes[-1]) if minutes else (None, None)

    # ---- p99 flat
    flat_rows, flat_ok, judged_ops = [], True, []
    if first is not None and last is not None and first != last:
        ratio = _ms(all_lat[last], 0.99) / _ms(all_lat[first], 0.99)
        flat_ok = ratio <= P99_FLAT
        flat_rows.append(f"all {ratio:.2f}")
        for op in OPS:
            a, b = rec.latencies.get((first, op), []), rec.latencies.get((last, op), [])
            if len(a) >= MIN_JUDGED and len(b) >= MIN_JUDGED:
                r = _ms(b, 0.99) / _ms(a, 0.99)
                judged_ops.append(op)
                flat_ok = flat_ok and r <= P99_FLAT
                flat_rows.append(f"{op} {r:.2f}")
    else:
        flat_ok = False
        flat_rows.append("needs two measured minutes")

    # ---- RSS
    before, start, end = run.rss.get("before", {}), run.rss.get("start", {}), run.rss.get("end", {})
    after1 = run.rss.get("minute 1", {})
    minutes_after1 = opts.minutes - 1
    rss_rows, rss_ok, rss_worst = [], True, 0.0
    seconds = max(1e-9, run.measured_end - run.measure_start)
    pids = sorted(set(before) | set(start) | set(end),
                  key=lambda p: ((start.get(p) or end.get(p) or before.get(p)).label, p))
    for pid in pids:
        proc = start.get(pid) or end.get(pid) or before.get(pid)
        if proc.label.startswith("postgres"):
            continue  # summed below: backends come and go with the connection pools
        b, s, e = before.get(pid), start.get(pid), end.get(pid)
        m1 = after1.get(pid)
        growth = (e.rss_kb / s.rss_kb - 1) if s and e else None
        # After the first measured minute, per minute: a level process shows about 0.
        slope = ((e.rss_kb / m1.rss_kb - 1) / (minutes_after1) * 100
                 if m1 and e and minutes_after1 > 0 else None)
        note = "" if s and e else ("gone by the end" if s else "new after the start")
        if proc.judged:
            if growth is None:
                rss_ok = False  # a process replaced mid-run (a killed gunicorn worker) is a finding
            else:
                rss_ok = rss_ok and growth < RSS_GROWTH
                rss_worst = max(rss_worst, growth)
        cpu = f"{(e.cpu_seconds - s.cpu_seconds) / seconds * 100:.1f}" if s and e else "-"
        rss_rows.append([proc.label + ("" if proc.judged else " (not judged)"), str(pid),
                         *(f"{x.rss_kb / 1024:.1f}" if x else "-" for x in (b, s, m1, e)),
                         f"{growth * 100:+.1f} %" if growth is not None else note,
                         f"{slope:+.2f} %" if slope is not None else "-", cpu])
    pg = [{pid: p for pid, p in snap.items() if p.label.startswith("postgres")} for snap in (before, start, end)]
    if any(pg):
        # Backends that ended mid-run are missing from the end: a lower bound.
        cpu = sum(p.cpu_seconds - (pg[1][pid].cpu_seconds if pid in pg[1] else 0) for pid, p in pg[2].items())
        rss = [sum(p.rss_kb for p in g.values()) for g in pg]
        pg1 = sum(p.rss_kb for p in after1.values() if p.label.startswith("postgres"))
        rss_rows.append(["postgres, all processes summed (not judged; shared buffers count in each)",
                         f"{len(pg[1])}/{len(pg[2])} procs", *(f"{x / 1024:.1f}" for x in rss[:2]),
                         f"{pg1 / 1024:.1f}" if pg1 else "-", f"{rss[2] / 1024:.1f}",
                         f"{(rss[2] / rss[1] - 1) * 100:+.1f} %" if rss[1] else "", "-", f"{cpu / seconds * 100:.1f}"])
    redis_note = ""
    if run.redis_memory.get("start") and run.redis_memory.get("end"):
        (m0, k0), (m1, k1) = run.redis_memory["start"], run.redis_memory["end"]
        redis_note = (f"Redis used_memory {m0 / 1048576:.1f} -> {m1 / 1048576:.1f} MB, keys {k0:,} -> {k1:,} "
                      f"(finished jobs' results are kept an hour: Redis grows with the work done).")

    # ---- mail
    mail = run.mail
    mail_ok = bool(mail) and (mail["count"] == mail["distinct"] and mail["distinct"] == mail["effects_done"]
                              and mail["effects_open"] == 0 and not any(mail["failed_jobs"].values())
                              and mail["mail_rows_done"] == mail["distinct"]
                              and all(mail["notices"].get(n, 0) == mail["expected"][n] for n in PREDICTED))
    drain_ok = run.drain is not None and run.drain <= DRAIN_SECONDS

    # ---- targets
    lines += ["## Targets", ""]
    lines += _table(["target", "measured", "result"], [
        ["0 errors (any answer not 2xx)", f"{errors_total} ({warmup_errors} in the warm-up)", _mark(errors_total == 0)],
        [f"p99 flat: last minute / first minute <= {P99_FLAT}", "; ".join(flat_rows)
         + (f" (judged: all{', ' + ', '.join(judged_ops) if judged_ops else ''}; ops with < {MIN_JUDGED} requests "
            f"in a minute shown below, not judged)"), _mark(flat_ok)],
        [f"RSS growth < {RSS_GROWTH * 100:.0f} % (kefu's processes, start -> end)",
         f"worst {rss_worst * 100:+.1f} %" + ("" if rss_ok or rss_worst >= RSS_GROWTH else "; a process was replaced"),
         _mark(rss_ok and bool(start) and bool(end))],
        [f"queue drained within {DRAIN_SECONDS:g} s of the end",
         (f"{run.drain:.1f} s" if run.drain is not None else f"not after {opts.drain_timeout:g} s")
         + (f" (at the end: outbox {run.drain_at_end.get('outbox')}, queued {run.drain_at_end.get('queued')}, "
            f"scheduled {run.drain_at_end.get('scheduled')})" if run.drain_at_end else ""), _mark(drain_ok)],
        ["every mail sent once",
         (f"{mail['count']} received, {mail['distinct']} distinct Message-IDs, {mail['effects_done']} mail effects "
          f"done ({mail['effects_open']} open), {mail['mail_rows_done']} mails in done outbox rows; each notice as "
          f"expected (table below)"
          if mail else "not checked"), _mark(mail_ok)],
    ], right_from=99)
    lines.append("")

    # ---- per minute
    lines += ["## Per minute", ""]
    rows = []
    for m in minutes:
        lat = all_lat[m]
        errs = sum(c for (mm, _op, _s), c in rec.errors.items() if mm == m)
        lags = rec.lags.get(m, [])
        t0 = run.measure_start + 60 * m
        depth_samples = [s for t, s in run.samples if t0 <= t < t0 + 60 and "outbox" in s]
        outbox = [s["outbox"] for s in depth_samples]
        queued = [s["queued"] for s in depth_samples]
        scheduled = [s["scheduled"] for s in depth_samples]
        span = max(1e-9, min(60.0, opts.minutes * 60 - 60 * m))
        mails = (run.mail_marks[m] - run.mail_marks[m - 1]) if m in run.mail_marks and m - 1 in run.mail_marks else None
        rows.append([str(m + 1), str(len(lat)), f"{len(lat) / span:.1f}", str(errs), f"{_ms(lat, 0.5):.1f}",
                     f"{_ms(lat, 0.99):.1f}", f"{_ms(lags, 0.99):.1f}", str(sum(1 for x in lags if x > LAG_LATE)),
                     (f"{sum(outbox) / len(outbox):.1f} / {max(outbox)}" if outbox else "-"),
                     (f"{max(queued)}" if queued else "-"), (f"{max(scheduled)}" if scheduled else "-"),
                     str(mails) if mails is not None else "-",
                     (f"{run.minute_rss[m] / 1024:.0f}" if m in run.minute_rss else "-")])
    lines += _table(["minute", "requests", "req/s", "errors", "p50 ms", "p99 ms", "start lag p99 ms",
                     f"late > {LAG_LATE * 1000:.0f} ms", "outbox open mean / max", "RQ queued max",
                     "RQ scheduled max", "mails sent", "kefu RSS MB"], rows)
    sample_errors = [s["error"] for _t, s in run.samples if "error" in s]
    lines += ["", f"Queue depth sampled every {opts.sample_seconds:g} s: outbox rows neither done nor failed, "
                  "jobs waiting on every RQ queue, RQ's scheduled jobs (delayed survey deliveries, retries). "
                  "Latency is from sending to the whole answer (a new TCP connection each time: sync workers "
                  "close it); start lag is how late a request left against its slot in the fixed-rate schedule."
              + (f" Sampling failed {len(sample_errors)} times: {sample_errors[0]}" if sample_errors else ""), ""]

    # ---- per operation per minute
    lines += ["## p50 / p99 ms per operation and minute", ""]
    rows = []
    for op in OPS:
        cells = []
        for m in minutes:
            v = rec.latencies.get((m, op), [])
            cells.append(f"{_ms(v, 0.5):.1f} / {_ms(v, 0.99):.1f} ({len(v)})" if v else "-")
        a, b = rec.latencies.get((first, op), []), rec.latencies.get((last, op), [])
        ratio = f"{_ms(b, 0.99) / _ms(a, 0.99):.2f}" if a and b and first != last else ""
        judged = op in judged_ops
        rows.append([op, *cells, ratio + ("" if not ratio else (f" {_mark(float(ratio) <= P99_FLAT)}" if judged
                                                               else " (not judged)"))])
    lines += _table(["operation", *[f"min {m + 1}" for m in minutes], "p99 last/first"], rows)
    lines += ["", "Each cell: p50 / p99 (requests).", ""]

    # ---- operations in all
    lines += ["## Operations", ""]
    rows = []
    measured_total = sum(len(v) for (m, _op), v in rec.latencies.items() if m >= 0)
    for op in OPS:
        v = [x for (m, o), lat in rec.latencies.items() if o == op and m >= 0 for x in lat]
        errs = sum(c for (m, o, _s), c in rec.errors.items() if o == op)
        rows.append([op, str(len(v)), f"{len(v) / measured_total * 100:.1f} %" if measured_total else "-", str(errs),
                     str(rec.substituted.get(op, 0)), f"{_ms(v, 0.5):.1f}", f"{_ms(v, 0.99):.1f}",
                     f"{max(v) * 1000:.1f}" if v else "-"])
    lines += _table(["operation", "requests (measured)", "share", "errors (all)", "went as get instead (all)",
                     "p50 ms", "p99 ms", "max ms"], rows)
    acts = rec.actions
    lines += ["", f"Done (warm-up included): {acts['create']} tickets filed, transitions "
                  + ", ".join(f"{a} {acts[a]}" for a in ("confirm", "start", "wait", "resolve"))
                  + f", {acts['reply']} customer replies, survey answers closed {acts['survey_closed']} / "
                  f"reopened {acts['survey_reopened']}"
                  + "".join(f" / {k.removeprefix('survey_')} {c}" for k, c in acts.items()
                            if k.startswith("survey_") and k not in ("survey_closed", "survey_reopened"))
                  + f"; {rec.refreshes} of the gets were the agent reading a ticket before acting on it.", ""]

    # ---- errors
    if rec.errors:
        lines += ["## Errors", ""]
        by = Counter()
        for (m, op, status), c in rec.errors.items():
            by[(op, status)] += c
        lines += _table(["operation", "status", "count", "first answer"],
                        [[op, str(s), str(c), rec.error_samples.get((op, s), "").replace("|", "\\|")[:300]]
                         for (op, s), c in sorted(by.items())], right_from=2)
        lines.append("")

    # ---- RSS
    lines += ["## RSS (MB)", ""]
    lines += _table(["process", "pid", "before warm-up", "start", "end of minute 1", "end", "growth start -> end",
                     "growth per minute after minute 1", "CPU % of a core"], rss_rows, right_from=1)
    lines += ["", "Start is the end of the warm-up, end the end of the measured traffic; the growth per minute "
                  "after the first measured minute tells a process still warming up (level later) from a steady "
                  "slope. CPU is over the measured time. " + redis_note, ""]

    # ---- mail
    if mail:
        lines += ["## Mail", ""]
        notices = sorted(set(mail["notices"]) | set(PREDICTED))
        lines += _table(["notice", "expected from the requests", "received", "distinct Message-IDs",
                         "received before the traffic"],
                        [[n, str(mail["expected"].get(n, "")) if n in PREDICTED else "(not predicted)",
                          str(mail["notices"].get(n, 0)), str(mail["distinct_by_notice"].get(n, 0)),
                          str(run.mail_before.get(n, 0))]
                         for n in notices])
        lines += ["", "Mails before the traffic come from the first run of the periodic jobs on the seeded "
                      "tickets (the SLA sweep alerting on their overdue clocks), finished before the warm-up."]
        lines += ["", "Outbox rows by job (rows, done, failed, run more than once, with an error):", ""]
        lines += [f"- {name}: {n}, {done}, {failed}, {retried or 0}, {errored}"
                  for name, n, done, failed, retried, errored in mail["outbox"]]
        failed = {k: v for k, v in mail["failed_jobs"].items() if v}
        lines += ["", f"Failed RQ jobs: {failed or 'none'}."
                  + (f" An outbox error: {mail['sample_error'][:300]}" if mail["sample_error"] else ""), ""]

    # ---- logs
    if run.logs:
        lines += ["## Server and worker log lines reporting errors", "", "```", *run.logs, "```", ""]
    return "\n".join(lines)


def _versions() -> str:
    from importlib.metadata import version

    return jb._versions() + f", gunicorn {version('gunicorn')}"


def parse_args(argv=None) -> Options:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--minutes", type=float, help="measured minutes (default 10; quick 2)")
    parser.add_argument("--rate", type=float, help=f"requests per second, all operations (default {DEFAULT_RATE:g}; "
                                                   "quick 10)")
    parser.add_argument("--workers", type=int, default=4, help="gunicorn sync workers (default 4)")
    parser.add_argument("--job-workers", type=int, default=2, help="kefu worker processes (default 2)")
    parser.add_argument("--clients", type=int, default=8, help="client threads sending the requests (default 8)")
    parser.add_argument("--tickets", type=int, default=1_000,
                        help="seeded tickets (default 1000; above about 1,500 the seeded resolved tickets are older "
                             "than AUTO_CLOSE_DAYS and the hourly autoclose mails them at the start)")
    parser.add_argument("--warmup", type=float, help="seconds of traffic before measuring (default 30; quick 15)")
    parser.add_argument("--sample-seconds", type=float, default=5, help="queue depth sampling interval (default 5)")
    parser.add_argument("--survey-delay", type=int, default=5,
                        help="SURVEY_DELAY: seconds from a resolution to its survey (default 5)")
    parser.add_argument("--drain-timeout", type=float, default=180,
                        help="give up waiting for the queue to drain after this (default 180 s)")
    parser.add_argument("--seed", type=int, default=1, help="random seed of the traffic (default 1)")
    parser.add_argument("--quick", action="store_true", help="2 minutes at 10 req/s, 15 s warm-up")
    parser.add_argument("--keep", action="store_true", help="keep the temporary directory (server and worker logs)")
    args = parser.parse_args(argv)
    opts = Options(
        minutes=args.minutes or (2 if args.quick else 10), rate=args.rate or (10 if args.quick else DEFAULT_RATE),
        workers=args.workers, job_workers=args.job_workers, clients=args.clients, tickets=args.tickets,
        warmup=args.warmup if args.warmup is not None else (15 if args.quick else 30),
        sample_seconds=args.sample_seconds, survey_delay=args.survey_delay, drain_timeout=args.drain_timeout,
        seed=args.seed, keep=args.keep,
        command=" ".join([".venv/bin/python", "bench/soak.py", *(sys.argv[1:] if argv is None else argv)]))
    for name in ("minutes", "rate", "workers", "job_workers", "clients", "tickets", "sample_seconds"):
        if getattr(opts, name) <= 0:
            parser.error(f"--{name.replace('_', '-')} must be positive")
    return opts


def main(argv=None) -> int:
    opts = parse_args(argv)
    started, load_start = time.monotonic(), os.getloadavg()[0]
    log(f"load average {load_start:.2f}")
    run = Run(opts)
    code = 0
    try:
        soak(opts, run)
    except KeyboardInterrupt:  # everything started is stopped by now (finally blocks)
        log("interrupted; everything this run started is stopped")
        code = 130
    run.elapsed, run.load = time.monotonic() - started, (load_start, os.getloadavg()[0])
    report = build_report(run)
    print(report)
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "soak-latest.md").write_text(report)
    log(f"wrote {RESULTS / 'soak-latest.md'}")
    return code


if __name__ == "__main__":
    sys.exit(main())
