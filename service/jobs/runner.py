"""Running jobs: periodic ticks, RQ workers on Redis, and the in-process runner.

* ``tick`` enqueues each periodic job whose period has begun. Every worker
  ticks; a ``SET NX`` on a key per job and period lets exactly one of them
  enqueue it, so a periodic job runs once per period however many workers
  (on however many machines) share the Redis.
* ``work`` is ``kefu worker``: RQ workers with the scheduler (delayed jobs,
  retries with backoff) plus the ticker.
* ``InProcessRunner`` is the embedded default without ``REDIS_URL``: RQ
  over an in-process fakeredis, worked by a thread in the serving process,
  so ``make run`` runs every job, delayed and periodic ones included.
"""
from __future__ import annotations

import logging
import threading
import time

from flask import current_app
from rq import SimpleWorker, Worker
from rq.timeouts import TimerDeathPenalty

from service.jobs import outbox, run
from service.jobs import registry as jobs

log = logging.getLogger("kefu.jobs")


def tick(app, conn, now: float | None = None) -> list[str]:
    """Enqueue the periodic jobs whose current period nobody has claimed yet.

    Returns the names enqueued by this call. Periods are aligned on the
    epoch (``floor(now / interval)``), so all tickers agree on them.
    """
    now = time.time() if now is None else now
    started = []
    for spec in jobs.periodic(app):
        slot = int(now // spec.interval)
        if conn.set(f"kefu:periodic:{spec.name}:{slot}", now, nx=True, ex=int(spec.interval) * 2 + 60):
            outbox.queue(spec.queue, conn).enqueue(
                run.run_periodic, spec.name, job_id=f"kefu-periodic-{spec.name.replace('.', '_')}-{slot}",
                job_timeout=spec.timeout, result_ttl=600, failure_ttl=app.config["JOB_FAILURE_TTL"],
                description=f"{spec.name} (periodic, every {spec.interval} s)")
            started.append(spec.name)
    return started




class _Ticker(threading.Thread):
    def __init__(self, app, conn, every: float):
        super().__init__(name="kefu-ticker", daemon=True)
        self.app, self.conn, self.every = app, conn, every
        self.stopped = threading.Event()

    def run(self):
        while not self.stopped.wait(self.every):
            try:
                with self.app.app_context():
                    tick(self.app, self.conn)
            except Exception:  # Redis away: try again next tick
                log.warning("periodic tick failed", exc_info=True)


def _warm(app) -> None:
    """Do once, before RQ forks a work horse per job, what every job would
    otherwise redo in its short-lived child: import the job functions
    (a bad declaration fails here, not in the first job) and compile the
    mail templates."""
    for spec in jobs.registry(app).values():
        spec.callable()
    for name in app.jinja_env.list_templates(filter_func=lambda n: n.startswith("mail/")):
        app.jinja_env.get_template(name)


def work(app, queues: list[str] | None = None, burst: bool = False, periodic: bool = True) -> None:
    """Run an RQ worker (forking, with the scheduler) for ``app`` until stopped.

    ``periodic`` also runs the ticker in this process (one tick when
    ``burst``). Needs ``REDIS_URL``.
    """
    conn = outbox.connection(app)
    if conn is None:
        raise RuntimeError("kefu worker needs REDIS_URL; without it the server runs jobs in-process")
    run.bind_app(app)
    with app.app_context():
        _warm(app)
    ticker = None
    if periodic:
        with app.app_context():
            tick(app, conn)
        # A burst worker ticks once: a ticker thread would keep enqueuing the
        # next period's jobs (outbox.relay every 15 s) while a slow machine
        # works through this one's, and the burst would never run dry.
        if not burst:
            ticker = _Ticker(app, conn, app.config["JOB_TICK_SECONDS"])
            ticker.start()
    try:
        Worker(queues or jobs.queues(app), connection=conn).work(
            burst=burst, with_scheduler=True, logging_level="INFO")
    finally:
        if ticker:
            ticker.stopped.set()


class ThreadWorker(SimpleWorker):
    """A SimpleWorker that can run in a thread: no signal handlers, timer timeouts."""

    death_penalty_class = TimerDeathPenalty

    def _install_signal_handlers(self):
        pass


class InProcessRunner:
    """RQ over an in-process fakeredis, worked by a daemon thread (or by ``drain``)."""

    def __init__(self, app):
        import fakeredis

        self.app = app
        self.conn = fakeredis.FakeStrictRedis(server=fakeredis.FakeServer())
        self._thread = None
        self._stop = threading.Event()

    def install(self) -> "InProcessRunner":
        """Make this the app's job connection in this process."""
        self.app.extensions["kefu_redis"] = self.conn
        self.app.extensions["kefu_runner"] = self
        run.bind_app(self.app)
        return self

    def drain(self, periodic: bool = True, now: float | None = None) -> None:
        """Relay the outbox, tick, and work every queue until nothing is due."""
        with self.app.app_context():
            outbox.relay_job()
            if periodic:
                tick(self.app, self.conn, now)
        ThreadWorker(jobs.queues(self.app), connection=self.conn).work(
            burst=True, with_scheduler=True, logging_level="WARNING")

    def start(self) -> "InProcessRunner":
        """Work in a daemon thread every ``JOB_TICK_SECONDS`` until ``stop``."""
        self.install()
        every = self.app.config["JOB_TICK_SECONDS"]

        def loop():
            while not self._stop.is_set():
                try:
                    self.drain()
                except Exception:
                    log.exception("in-process job runner failed a round")
                self._stop.wait(every)

        self._thread = threading.Thread(target=loop, name="kefu-jobs", daemon=True)
        self._thread.start()
        log.info("jobs run in-process (no REDIS_URL); start `kefu worker` with Redis to scale out")
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._thread:
            self._thread.join(timeout=10)


_START = threading.Lock()


def start_in_process_if_wanted(app) -> None:
    """Start the in-process runner once per process when ``JOBS_IN_PROCESS``
    resolves true: by default when there is no ``REDIS_URL`` and not testing."""
    if "kefu_runner_decided" in app.extensions:
        return
    with _START:
        if "kefu_runner_decided" in app.extensions:
            return
        wanted = app.config.get("JOBS_IN_PROCESS")
        if wanted is None:
            wanted = not app.config.get("REDIS_URL") and not app.config.get("TESTING")
        if wanted and app.extensions.get("kefu_runner") is None:
            InProcessRunner(app).start()
        app.extensions["kefu_runner_decided"] = True


def current_runner():
    """This process's in-process runner, if one was installed."""
    return current_app.extensions.get("kefu_runner")
