"""A ``kefu worker`` always ends when it should: a burst worker never forks a
scheduler process, and a worker whose scheduler process does not stop on
SIGTERM still stops.

The CI flake these guard against: RQ's maintenance pass starts a scheduler
process whenever none is alive, burst mode or not. A burst worker that
outlived ``JOB_MAINTENANCE_SECONDS`` (a busy machine) forked one, then found
the queues empty and tore down at once: it sent that child SIGTERM and
waited for it with no timeout. When the SIGTERM arrived before the child had
installed the scheduler's own handler, the child ran the worker's inherited
handler, whose StopRequested was swallowed (by logging's emit or an at-fork
hook); the child went on scheduling and the burst never ended.
"""
from __future__ import annotations

import os
import signal
import subprocess
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from redis import Redis
from rq import Queue, Worker
from rq.job import Job
from rq.scheduler import RQScheduler

from jobparts import wait_until


@pytest.fixture
def overrides(redis_server):
    # Maintenance every second, so a job of two seconds outlasts it.
    return {"REDIS_URL": redis_server.url, "JOB_MONITORING_SECONDS": 1, "JOB_MAINTENANCE_SECONDS": 1}


@pytest.fixture
def conn(redis_server):
    connection = Redis.from_url(redis_server.url)
    try:
        yield connection
    finally:
        connection.close()


def _children(pid: int) -> list[int]:
    """Live processes whose parent is ``pid`` (read from /proc)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:  # it ended while we looked
            continue
        fields = stat.rsplit(")", 1)[1].split()  # after "pid (comm)": state, ppid, ...
        if int(fields[1]) == pid and fields[0] != "Z":
            found.append(int(entry.name))
    return found


def _kill_group(proc) -> None:
    # The worker's session holds its scheduler, stopped or not, even after the worker ended.
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    proc.wait()


def _log(workers, index: int) -> str:
    return (workers.tmp_path / f"worker-{index}.log").read_text(errors="replace")


def test_a_burst_worker_that_outlasts_its_maintenance_interval_forks_no_scheduler(conn, workers):
    queue = Queue("default", connection=conn)
    # Due before the worker starts: the burst's one scheduling pass moves it.
    due = queue.enqueue_at(datetime.now(timezone.utc) - timedelta(seconds=1), time.sleep, 0)
    # The first job outlasts the one-second maintenance interval, so the next
    # maintenance pass comes between it and the second: where RQ forked.
    queue.enqueue(time.sleep, 2, description="outlasts maintenance")
    second = queue.enqueue(time.sleep, 3, description="the last job")

    proc = workers.start("--burst", "--no-periodic")
    try:
        wait_until(lambda: Job.fetch(second.id, connection=conn).get_status() != "queued",
                   timeout=60, what="the burst worker to take the last job")
        children = _children(proc.pid)
        assert children == [], f"the burst worker forked {children}:\n{_log(workers, 0)}"
        proc.wait(timeout=60)
    finally:
        _kill_group(proc)
    output = _log(workers, 0)
    assert proc.returncode == 0, output
    assert "done, quitting" in output
    assert "Scheduler for" not in output  # RQ logs this as a scheduler process starts
    assert Job.fetch(second.id, connection=conn).get_status() == "finished"
    assert Job.fetch(due.id, connection=conn).get_status() == "finished", output
    assert not any(conn.exists(RQScheduler.get_locking_key(name)) for name in ("default", "mail", "system"))


def test_a_worker_stops_although_its_scheduler_process_ignores_sigterm(conn, workers):
    # No maintenance (and its logging) while idle: RQ raises its stop from the
    # SIGTERM handler, and one that lands inside a log line's emit is
    # swallowed by logging, which is not what this test is about.
    workers.config = {**workers.config, "JOB_MAINTENANCE_SECONDS": 60}
    proc = workers.start("--no-periodic")
    try:
        # Idle: past RQ's start, whose signal handlers come after the
        # scheduler's fork. A fresh Redis: this worker took the scheduler
        # locks and forked its scheduler.
        wait_until(lambda: [w for w in Worker.all(connection=conn) if w.get_state() == "idle"],
                   timeout=60, what="the worker to wait for jobs")
        scheduler = _children(proc.pid)
        assert len(scheduler) == 1, scheduler
        assert conn.exists(RQScheduler.get_locking_key("default"))
        # A stopped process keeps SIGTERM pending: it stands in for a
        # scheduler that lost its SIGTERM before it could handle it.
        os.kill(scheduler[0], signal.SIGSTOP)
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=45)
        except subprocess.TimeoutExpired:
            raise AssertionError(f"the worker waits for ever on its scheduler:\n{_log(workers, 0)}") from None
        assert not os.path.exists(f"/proc/{scheduler[0]}"), "the scheduler process outlived its worker"
    finally:
        _kill_group(proc)
    output = _log(workers, 0)
    assert proc.returncode == 0, output
    # It released the locks the killed scheduler could not: another worker's
    # scheduler takes over now, not after the locks' TTL.
    assert not any(conn.exists(RQScheduler.get_locking_key(name)) for name in ("default", "mail", "system")), output


def test_an_in_process_drain_forks_no_scheduler_either():
    # The in-process runner's drain is a burst ThreadWorker in the serving
    # process: RQ would fork that whole process as a scheduler.
    import multiprocessing
    import threading

    import fakeredis

    from service.jobs.runner import ThreadWorker

    conn = fakeredis.FakeStrictRedis(server=fakeredis.FakeServer())
    queue = Queue("default", connection=conn)
    queue.enqueue(time.sleep, 1.5, description="outlasts maintenance")
    last = queue.enqueue(time.sleep, 2, description="the last job")
    worker = ThreadWorker([queue], connection=conn, maintenance_interval=1)
    thread = threading.Thread(target=worker.work, daemon=True,
                              kwargs={"burst": True, "with_scheduler": True, "logging_level": "WARNING"})
    thread.start()
    try:
        wait_until(lambda: last.get_status(refresh=True) != "queued", timeout=30, what="the last job to start")
        forked = [p.name for p in multiprocessing.active_children()]
    finally:
        thread.join(timeout=60)
    assert forked == []
    assert not thread.is_alive()
    assert last.get_status(refresh=True) == "finished"
