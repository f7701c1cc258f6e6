"""Running jobs: RQ workers on Redis, and the in-process runner.

* ``tick`` (``service.jobs.periodic``) claims and enqueues each periodic job
  whose period has begun; every worker ticks, the database lets one claim
  each period.
* ``work`` is ``kefu worker``: a ``KefuWorker`` with the scheduler (delayed
  jobs, retries with backoff) plus the ticker. It runs jobs in its own
  process, so a job reuses the worker's pooled database connections instead
  of opening one; it keeps working through a Redis outage (it waits and
  reconnects with backoff instead of exiting); it heartbeats often, so a
  job abandoned by a killed worker is taken up by another within about
  ``JOB_MONITORING_SECONDS * 3 + JOB_MAINTENANCE_SECONDS``.
* ``InProcessRunner`` is the embedded default without ``REDIS_URL``: RQ
  over an in-process fakeredis, worked by a thread in the serving process,
  so ``make run`` runs every job, delayed and periodic ones included.
"""
from __future__ import annotations

import logging
import os
import signal
import threading

from flask import current_app
from redis.exceptions import RedisError
from rq import SimpleWorker
from rq.worker import WorkerStatus
from rq.timeouts import TimerDeathPenalty

from service.jobs import outbox, run
from service.jobs import registry as jobs
from service.jobs.periodic import tick

__all__ = ["tick", "work", "KefuWorker", "InProcessRunner", "start_in_process_if_wanted", "current_runner"]

log = logging.getLogger("kefu.jobs")


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
            except Exception:  # Redis or the database away: try again next tick
                log.warning("periodic tick failed", exc_info=True)


class _BurstSchedulesOnce:
    """A burst worker runs its scheduler once, as it starts, and never forks
    a scheduler process.

    RQ's burst ``work()`` moves the due scheduled jobs once and releases the
    scheduler locks; but its maintenance pass then starts a scheduler
    *process* whenever none is alive, burst or not (rq/rq#1788). A burst
    worker that outlived ``maintenance_interval`` (any busy machine) forked
    one and, finding the queues empty, sent it SIGTERM at once and waited for
    it with no timeout. A SIGTERM that reaches the child before it installs
    the scheduler's own handler runs the worker's inherited handler instead;
    its StopRequested is swallowed where it lands (logging's emit, an at-fork
    hook), and the child schedules for ever: ``kefu worker --burst`` never
    ended (CI: test_change_committed_while_redis_is_down_runs_once_after_restart).
    """

    def work(self, burst: bool = False, *args, **kwargs) -> bool:
        """RQ's ``work``; remembers ``burst`` for the maintenance pass."""
        self._kefu_burst = burst
        return super().work(burst, *args, **kwargs)

    def run_maintenance_tasks(self):
        """RQ's maintenance, minus starting a scheduler process when in burst mode."""
        if getattr(self, "_kefu_burst", False):
            # Its one pass ran in work() and let go of the locks: nothing to
            # start, and nothing for teardown to stop.
            self.scheduler = None
        super().run_maintenance_tasks()


class KefuWorker(_BurstSchedulesOnce, SimpleWorker):
    """An RQ worker that runs each job in its own process (no fork per job)
    and heartbeats while it does.

    Not forking keeps the database pool warm from job to job. RQ's
    ``SimpleWorker`` heartbeats only between jobs, so it must announce each
    job's whole timeout as its lease and a killed worker's job waits that
    long to be recovered; a thread here heartbeats every
    ``job_monitoring_interval`` during the job, so the lease is three
    intervals. Job timeouts still work: RQ's SIGALRM death penalty fires in
    the main thread, where the job runs.
    """

    def get_heartbeat_ttl(self, job, working_time: float = 0.0) -> int:
        return int(self.job_monitoring_interval) * 3

    def execute_job(self, job, queue):
        done = threading.Event()
        execution = self.prepare_execution(job)

        def beat():
            while not done.wait(self.job_monitoring_interval):
                try:
                    self.maintain_heartbeats(job, execution)
                except Exception:  # Redis away: the next beat tries again
                    log.debug("heartbeat failed", exc_info=True)

        beater = threading.Thread(target=beat, name="kefu-heartbeat", daemon=True)
        beater.start()
        try:
            self.perform_job(job, queue, execution)
        finally:
            done.set()
            beater.join(timeout=5)
        self.set_state(WorkerStatus.IDLE)

    # A scheduled job this far past due has no live scheduler moving it.
    OVERDUE_SECONDS = 10

    def run_maintenance_tasks(self):
        super().run_maintenance_tasks()
        self.rescue_overdue_scheduled_jobs()

    def rescue_overdue_scheduled_jobs(self) -> int:
        """Move scheduled jobs (retries with backoff, delayed jobs) that are
        ``OVERDUE_SECONDS`` past due onto their queues; returns how many.

        RQ's scheduler runs in one worker, under a lock that outlives a
        killed worker by a minute; until another worker takes it over,
        nothing would move them. If that scheduler is only slow and moves
        one too, the job runs twice: outbox jobs skip a second run and
        ``effect_once`` keeps their effects single.
        """
        from rq.job import Job
        from rq.utils import current_timestamp

        moved = 0
        for queue in self.queues:
            registry = queue.scheduled_job_registry
            ids = registry.get_jobs_to_schedule(current_timestamp() - self.OVERDUE_SECONDS)
            if not ids:
                continue
            found = Job.fetch_many(ids, connection=self.connection, serializer=self.serializer)
            with self.connection.pipeline() as pipeline:
                for job_id, job in zip(ids, found):
                    if job is not None:
                        queue._enqueue_job(job, pipeline=pipeline, at_front=job.should_enqueue_at_front())
                        moved += 1
                    registry.remove(job_id, pipeline=pipeline)
                pipeline.execute()
        if moved:
            self.log.warning("Worker %s: moved %d overdue scheduled jobs (no live scheduler?)", self.name, moved)
        return moved

    def subscribe(self):
        # RQ listens for commands with a 60-second wait, and stopping the
        # listener waits that out: a warm shutdown took up to a minute.
        self.log.info("Worker %s: subscribing to channel %s", self.name, self.pubsub_channel_name)
        self.pubsub = self.connection.pubsub()
        self.pubsub.subscribe(**{self.pubsub_channel_name: self.handle_payload})
        self.pubsub_thread = self.pubsub.run_in_thread(
            sleep_time=1, daemon=True, exception_handler=self._pubsub_exception_handler)

    def request_stop(self, signum, frame):
        self.kefu_stop_requested = True
        super().request_stop(signum, frame)

    # A scheduler stops within its 1-s sleep and a few Redis calls.
    SCHEDULER_STOP_SECONDS = 5

    def stop_scheduler(self):
        """Stop this worker's scheduler process: SIGTERM, then SIGKILL if it
        has not ended within ``SCHEDULER_STOP_SECONDS``; returns when it is gone.

        RQ waits for it without a timeout, and a scheduler that took SIGTERM
        before it installed its handler never ends (see ``_BurstSchedulesOnce``;
        a long-running worker told to stop just as its maintenance pass starts
        a scheduler meets the same race). Killing it is safe: it moves jobs in
        one transaction. Its locks are released here, so another worker's
        scheduler takes over now rather than after the locks' TTL.
        """
        process = self.scheduler._process
        # RQ calls this from a stop request and again from teardown: a
        # scheduler already reaped must not be signalled (its pid may be reused).
        if process is None or not process.is_alive():
            return
        try:
            os.kill(process.pid, signal.SIGTERM)
        except OSError:  # it ended meanwhile
            pass
        process.join(self.SCHEDULER_STOP_SECONDS)
        if not process.is_alive():
            return
        self.log.warning("Worker %s: scheduler %s did not stop on SIGTERM; killing it", self.name, process.pid)
        try:
            os.kill(process.pid, signal.SIGKILL)
        except OSError:
            pass
        process.join()
        try:
            self.scheduler.release_locks()  # only the locks still holding its name
            self.scheduler.register_death()
        except RedisError:  # Redis away: the locks expire on their own
            self.log.warning("Worker %s: could not release the scheduler locks", self.name, exc_info=True)


def _warm(app) -> None:
    """Do once, before RQ forks a work horse per job, what every job would
    otherwise redo in its short-lived child: import the job functions
    (a bad declaration fails here, not in the first job) and compile the
    mail templates."""
    for spec in jobs.registry(app).values():
        spec.callable()
    for name in app.jinja_env.list_templates(filter_func=lambda n: n.startswith("mail/")):
        app.jinja_env.get_template(name)


def _worker(app, conn, queues) -> KefuWorker:
    maintenance = app.config["JOB_MAINTENANCE_SECONDS"]
    # An idle worker waits for a job up to worker_ttl - 15 s and does its
    # maintenance only between waits: bound the wait by the maintenance interval.
    return KefuWorker(queues or jobs.queues(app), connection=conn,
                      job_monitoring_interval=app.config["JOB_MONITORING_SECONDS"],
                      maintenance_interval=maintenance, worker_ttl=maintenance + 15)


def _wait_for_redis(conn, stopping: threading.Event, longest: float) -> None:
    delay = 1.0
    while not stopping.is_set():
        try:
            conn.ping()
            return
        except RedisError as exc:
            log.warning("Redis is unreachable (%s); trying again in %.0f s", exc, delay)
            stopping.wait(delay)
            delay = min(delay * 2, longest)


def work(app, queues: list[str] | None = None, burst: bool = False, periodic: bool = True) -> None:
    """Run a ``KefuWorker`` (with the scheduler) for ``app`` until stopped.

    ``periodic`` also runs the ticker in this process (one tick when
    ``burst``; a burst worker also moves the due scheduled jobs once, as it
    starts, and forks no scheduler process). When Redis goes away the worker waits for it, with backoff
    up to ``JOB_RECONNECT_MAX_SECONDS``, and starts working again: it exits
    only on SIGTERM/SIGINT (warm: after the job it is running) or, with
    ``burst``, when the queues are empty. Needs ``REDIS_URL``.
    """
    conn = outbox.connection(app)
    if conn is None:
        raise RuntimeError("kefu worker needs REDIS_URL; without it the server runs jobs in-process")
    run.bind_app(app)
    with app.app_context():
        _warm(app)
    stopping = threading.Event()
    ticker = None
    if periodic:
        try:
            with app.app_context():
                tick(app, conn)
        except Exception:
            log.warning("periodic tick failed", exc_info=True)
        # A burst worker ticks once: a ticker thread would keep enqueuing the
        # next period's jobs (outbox.relay every 15 s) while a slow machine
        # works through this one's, and the burst would never run dry.
        if not burst:
            ticker = _Ticker(app, conn, app.config["JOB_TICK_SECONDS"])
            ticker.start()
    try:
        while not stopping.is_set():
            worker = None
            try:
                # Building the worker talks to Redis already (it names its
                # connection): a worker started during an outage waits too.
                worker = _worker(app, conn, queues)
                worker.work(burst=burst, with_scheduler=True, logging_level="INFO")
            except RedisError as exc:  # raised while starting or tearing down
                if burst and worker is None:
                    raise
                log.warning("worker lost Redis: %s", exc)
            if burst or getattr(worker, "kefu_stop_requested", False):
                break
            # RQ's loop ends on a Redis error it does not retry itself; wait
            # for Redis here (a signal still stops us) and start a new worker.
            previous = {sig: signal.signal(sig, lambda *_: stopping.set()) for sig in (signal.SIGTERM, signal.SIGINT)}
            try:
                _wait_for_redis(conn, stopping, app.config["JOB_RECONNECT_MAX_SECONDS"])
            finally:
                for sig, handler in previous.items():
                    signal.signal(sig, handler)
    finally:
        if ticker:
            ticker.stopped.set()


class ThreadWorker(_BurstSchedulesOnce, SimpleWorker):
    """A SimpleWorker that can run in a thread: no signal handlers, timer
    timeouts, and no scheduler process forked from the serving process."""

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
