"""Background work through a Redis that restarts empty, workers that lose
Redis or get stopped, and periodic jobs across a Redis wipe: real
redis-server, real ``kefu worker`` processes, a real SMTP server."""
from __future__ import annotations

import os
import signal
import threading
import time
from datetime import timedelta

import pytest
import sqlalchemy as sa
from fakeredis import FakeRedis
from redis import Redis
from sqlalchemy import select

from service import hookimpl
from service.extensions import db
from service.jobs import periodic
from service.jobs import registry as jobs
from service.models import OutboxJob, PeriodicRun

from jobparts import smtp_settings, wait_until


@pytest.fixture
def overrides(redis_server, smtp_sink):
    return {"REDIS_URL": redis_server.url, "JOB_MONITORING_SECONDS": 1, "JOB_MAINTENANCE_SECONDS": 2,
            "JOB_RECONCILE_GRACE_SECONDS": 0, **smtp_settings(smtp_sink)}


def _rows():
    db.session.rollback()
    return db.session.scalars(select(OutboxJob).order_by(OutboxJob.id)).all()


def _status_text(app) -> str:
    from flask.cli import ScriptInfo

    from service.cli import main

    result = app.test_cli_runner().invoke(main, ["jobs", "status"], obj=ScriptInfo(create_app=lambda: app))
    assert result.exit_code == 0, result.output
    return result.output


def _status(app) -> dict:
    return {line.split()[1]: int(line.split()[2]) for line in _status_text(app).splitlines()
            if line.startswith("outbox ")}


def _recipients(sink) -> list[str]:
    return sorted(m["To"].addresses[0].addr_spec for m in sink.handler_obj.messages)


def test_jobs_relayed_just_before_redis_restarts_empty_are_relayed_again_and_run_once(
        app, client, file_ticket, redis_server, smtp_sink, workers):
    # Three complaints, relayed to Redis as they commit; no worker has run yet.
    for n in range(3):
        file_ticket(email=f"c{n}@example.test")
    assert all(row.relayed_at is not None for row in _rows())
    assert _status(app)["relayed"] == 3

    redis_server.stop()
    redis_server.start()  # same port, empty: the three jobs are gone from RQ

    output = workers.run_burst()  # ticks once: the reconciliation relays them again
    wait_until(lambda: len(smtp_sink.handler_obj.messages) == 3, what="the three receipts", timeout=30)
    assert _recipients(smtp_sink) == ["c0@example.test", "c1@example.test", "c2@example.test"], output
    # The worker marks each row done just after the SMTP server has the mail.
    rows = wait_until(lambda: (lambda rows: rows if all(r.done_at for r in rows) else None)(_rows()),
                      what="the rows to be marked done")
    assert [row.relays for row in rows if row.name == "mail.notice"] == [2, 2, 2]
    status = _status(app)
    assert status["relayed"] == status["running"] == status["failed"] == status["stale"] == 0

    # Reconciling and working again sends nothing more.
    workers.run_burst()
    assert len(smtp_sink.handler_obj.messages) == 3


def test_a_busy_worker_that_loses_redis_waits_for_it_and_works_on(
        app, client, file_ticket, redis_server, smtp_sink, workers, tmp_path):
    app.config["JOB_INTERVALS"] = {}
    smtp_sink.handler_obj.hold_first = True  # the first mail hangs in DATA, then fails
    worker = workers.start("--no-periodic")
    file_ticket(email="first@example.test")
    wait_until(smtp_sink.handler_obj.holding.is_set, timeout=30, what="the mail job to reach the SMTP server")
    redis_server.stop()
    smtp_sink.handler_obj.release.set()  # the job fails; RQ cannot record it: Redis is gone
    log = tmp_path / "worker-0.log"
    wait_until(lambda: worker.poll() is not None or b"Redis is unreachable" in log.read_bytes(),
               timeout=60, what="the worker to notice Redis is gone")
    assert worker.poll() is None, log.read_text()

    redis_server.start()
    file_ticket(email="second@example.test")
    wait_until(lambda: "second@example.test" in _recipients(smtp_sink), timeout=60,
               what="the next mail, worked by the same worker")
    assert worker.poll() is None
    # The first mail's job was lost with Redis; the reconciliation brings it back.
    with app.app_context():
        from service.jobs.reconcile import reconcile_job
        reconcile_job()
    wait_until(lambda: "first@example.test" in _recipients(smtp_sink), timeout=60, what="the first mail")
    assert _recipients(smtp_sink) == ["first@example.test", "second@example.test"]


def test_a_worker_started_while_redis_is_down_waits_for_it(app, file_ticket, redis_server, smtp_sink, workers,
                                                           tmp_path):
    redis_server.stop()
    worker = workers.start("--no-periodic")
    log = tmp_path / "worker-0.log"
    wait_until(lambda: worker.poll() is not None or b"Redis is unreachable" in log.read_bytes(),
               timeout=60, what="the worker to find Redis gone")
    assert worker.poll() is None, log.read_text()
    redis_server.start()
    file_ticket(email="first@example.test")
    wait_until(lambda: _recipients(smtp_sink) == ["first@example.test"], timeout=60,
               what="the mail, worked once Redis is back")


def test_a_worker_stops_within_seconds_of_sigterm(app, file_ticket, redis_server, smtp_sink, workers, tmp_path):
    smtp_sink.handler_obj.hold_first = True
    worker = workers.start("--no-periodic")
    file_ticket(email="first@example.test")
    wait_until(smtp_sink.handler_obj.holding.is_set, timeout=30, what="the mail job to reach the SMTP server")
    os.kill(worker.pid, signal.SIGTERM)  # warm: the job it runs ends first
    smtp_sink.handler_obj.release.set()
    began = time.monotonic()
    worker.wait(timeout=20)  # RQ's command listener held a stop for up to 60 s
    assert worker.returncode == 0, (tmp_path / "worker-0.log").read_text()
    print(f"warm shutdown after the job took {time.monotonic() - began:.1f} s")


def test_periodic_runs_are_claimed_in_the_database_so_a_redis_wipe_reruns_nothing(app, redis_server):
    conn = Redis.from_url(redis_server.url)
    try:
        t = 3600 * 2000.0
        names = {spec.name for spec in jobs.periodic(app)}
        assert set(periodic.tick(app, conn, now=t)) == names
        conn.flushall()  # Redis restarted empty within the same periods
        assert periodic.tick(app, conn, now=t + 1) == []
        claimed = db.session.scalars(select(PeriodicRun.job)).all()
        assert sorted(claimed) == sorted(names)  # one row per job and period
    finally:
        conn.close()


def test_a_periodic_run_lost_with_redis_is_enqueued_again_and_runs_once(app, redis_server):
    from service.jobs.run import bind_app
    from service.jobs.runner import ThreadWorker

    bind_app(app)
    conn = Redis.from_url(redis_server.url)
    try:
        now = time.time()
        assert "tickets.autoclose" in periodic.tick(app, conn, now=now)
        conn.flushall()  # the queued run is gone from RQ; its row is still queued
        counts = periodic.reconcile(app, conn, now=now)
        assert counts["requeued"] == len(jobs.periodic(app))
        ThreadWorker(jobs.queues(app), connection=conn).work(burst=True)
        db.session.rollback()
        runs = db.session.scalars(select(PeriodicRun)).all()
        assert {(r.job, r.status, r.attempts) for r in runs} == {(s.name, "done", 1) for s in jobs.periodic(app)}
        # Nothing is queued again for periods that ran.
        assert periodic.reconcile(app, conn, now=now)["requeued"] == 0
    finally:
        conn.close()


def test_two_runs_of_one_periodic_job_never_overlap_and_later_periods_overtake_earlier_ones(app):
    from service.jobs.periodic import _take_lock

    spec = jobs.registry(app)["tickets.autoclose"]
    for slot in (10, 11):
        db.session.add(PeriodicRun(job=spec.name, slot=slot, status="queued", attempts=0))
    db.session.commit()
    # Slot 10's run holds the lock (it is running elsewhere): slot 11 waits.
    assert _take_lock(spec, 10, "another worker")
    db.session.commit()
    assert periodic.run(spec.name, 11) == "busy"
    # The lock is released; slot 11 runs and leaves nothing for slot 10 to do.
    periodic._release_lock(spec.name, "another worker")
    db.session.commit()
    assert periodic.run(spec.name, 11) == "done"
    assert periodic.run(spec.name, 10) == "skipped"
    states = dict(db.session.execute(select(PeriodicRun.slot, PeriodicRun.status)).all())
    assert states == {10: "skipped", 11: "done"}


def test_a_failed_periodic_run_is_retried_within_its_period(app, redis_server, monkeypatch):
    conn = Redis.from_url(redis_server.url)
    try:
        spec = jobs.registry(app)["tickets.autoclose"]
        slot = int(time.time() // spec.interval)
        db.session.add(PeriodicRun(job=spec.name, slot=slot, status="queued", attempts=0))
        db.session.commit()
        from service.jobs import core

        def broken():
            raise RuntimeError("database said no")

        monkeypatch.setattr(core, "autoclose", broken)
        with pytest.raises(RuntimeError):
            periodic.run(spec.name, slot)
        run = db.session.scalar(select(PeriodicRun).where(PeriodicRun.job == spec.name))
        assert (run.status, run.attempts, run.last_error) == ("failed", 1, "RuntimeError: database said no")
        monkeypatch.undo()
        assert periodic.reconcile(app, conn)["retried"] == 1
        assert periodic.run(spec.name, slot) == "done"
        db.session.refresh(run)
        assert (run.status, run.attempts) == ("done", 2)
    finally:
        conn.close()


def test_relay_and_reconciliation_run_on_their_own_queue_ahead_of_a_mail_backlog(app, redis_server, workers):
    specs = jobs.registry(app)
    assert specs["outbox.relay"].queue == specs["jobs.reconcile"].queue == "system"
    conn = Redis.from_url(redis_server.url)
    try:
        from rq import Queue
        backlog = Queue("mail", connection=conn)
        for n in range(20):
            backlog.enqueue(time.sleep, 0, description=f"backlog mail {n}")
    finally:
        conn.close()
    lines = workers.run_burst().splitlines()  # ticks once, then works every queue dry

    def first(text):
        return next(i for i, line in enumerate(lines) if text in line)

    assert first("system: outbox.relay") < first("backlog mail 0")
    assert first("system: jobs.reconcile") < first("backlog mail 0")
    assert sum("completed backlog mail" in line for line in lines) == 20


def test_a_failed_jobs_error_reads_without_sqlalchemys_link():
    from service.jobs.run import error_text

    exc = sa.exc.OperationalError("SELECT 1", {}, Exception("server closed the connection unexpectedly"))
    assert "Background on this error" in str(exc)
    assert error_text(exc) == ("OperationalError: (builtins.Exception) server closed the connection unexpectedly\n"
                               "[SQL: SELECT 1]")


@pytest.mark.postgres_only
def test_jobs_reuse_the_workers_database_connections(app, client, file_ticket, redis_server, smtp_sink, workers):
    for n in range(12):
        file_ticket(email=f"c{n}@example.test")

    def sessions() -> int:
        db.session.rollback()
        return db.session.execute(sa.text(
            "SELECT sessions FROM pg_stat_database WHERE datname = current_database()")).scalar()

    before = sessions()
    workers.run_burst("--no-periodic")
    assert len(smtp_sink.handler_obj.messages) == 12
    opened = sessions() - before
    # One worker process: a few connections for its pool, not one per job.
    assert opened <= 4, opened


def test_finished_periodic_runs_are_pruned_after_a_week(app, redis_server):
    from datetime import timedelta

    from service.models.base import utcnow

    conn = Redis.from_url(redis_server.url)
    try:
        old, recent = utcnow() - timedelta(days=8), utcnow() - timedelta(days=6)
        db.session.add_all([
            PeriodicRun(job="tickets.autoclose", slot=1, status="done", attempts=1, finished_at=old),
            PeriodicRun(job="tickets.autoclose", slot=2, status="skipped", attempts=0, finished_at=old),
            PeriodicRun(job="tickets.autoclose", slot=3, status="done", attempts=1, finished_at=recent)])
        db.session.commit()
        assert periodic.reconcile(app, conn)["pruned"] == 2
        assert db.session.scalars(select(PeriodicRun.slot)).all() == [3]
    finally:
        conn.close()


def test_admins_see_the_outbox_while_redis_is_down(app, client, admin, file_ticket, redis_server, staff_login):
    redis_server.stop()
    file_ticket(email="c@example.test")  # committed; its job waits in the outbox
    body = client.get("/api/v1/admin/jobs", headers=admin).json
    assert body["queue"] == "unreachable" and body["failed"] == []
    assert body["outbox"]["pending"] == 1
    assert _status(app)["pending"] == 1  # and the command says why no failed job is listed:
    assert "failed jobs cannot be listed: Redis does not answer" in _status_text(app)
    staff_login("admin")
    page = client.get("/console/admin/jobs")
    assert page.status_code == 200
    assert "The job queue (Redis) does not answer" in page.text


SLOW_RUN = threading.Event()


def slow_periodic_job():
    """A periodic job that works until the test lets it finish."""
    SLOW_RUN.wait(timeout=120)


class SlowJobPlugin:
    @hookimpl
    def register_jobs(self, app):
        return [{"name": "test.slow", "func": f"{__name__}:slow_periodic_job", "queue": "default",
                 "interval": 3600, "timeout": 300, "lease": 3}]


def test_a_run_slower_than_its_lease_keeps_its_lock_and_is_not_abandoned(app, kefu_plugins):
    """The lease only frees the lock of a run whose process died: a live
    run renews it, so a later period never overlaps it (the cluster test
    once saw jobs.reconcile run twice at once, its 60-s lease outlived)."""
    from service.models import PeriodicLock

    kefu_plugins.register(SlowJobPlugin(), name="slow_jobs")
    spec = jobs.registry(app)["test.slow"]
    for slot in (10, 11):
        db.session.add(PeriodicRun(job=spec.name, slot=slot, status="queued", attempts=0))
    db.session.commit()
    SLOW_RUN.clear()
    outcome = {}

    def first():
        with app.app_context():
            outcome["first"] = periodic.run(spec.name, 10)

    worker = threading.Thread(target=first)
    worker.start()
    try:
        def lock():
            db.session.rollback()
            return db.session.get(PeriodicLock, spec.name)

        wait_until(lambda: lock() is not None and lock().holder is not None, timeout=60)
        taken = lock().since
        # Well past the 3-s lease, renewed all along.
        wait_until(lambda: lock().since > taken + timedelta(seconds=4), timeout=60)
        assert periodic.run(spec.name, 11) == "busy"
        db.session.rollback()
        assert periodic.reconcile(app, FakeRedis(), now=time.time())["abandoned"] == 0
        assert db.session.scalar(select(PeriodicRun.status).where(PeriodicRun.slot == 10)) == "running"
    finally:
        SLOW_RUN.set()
        worker.join(timeout=60)
    assert outcome["first"] == "done"
    db.session.rollback()
    assert periodic.run(spec.name, 11) == "done"
